package io.serval.server.metrics;

/** The executions of one batch size: the statistics extension's {@code batch_stats} entry. */
public final class BatchStatistics {
  private final Duration computeInput = new Duration();
  private final Duration computeInfer = new Duration();
  private final Duration computeOutput = new Duration();

  void add(long inputNanos, long inferNanos, long outputNanos) {
    computeInput.add(inputNanos);
    computeInfer.add(inferNanos);
    computeOutput.add(outputNanos);
  }

  public Duration computeInput() {
    return computeInput;
  }

  public Duration computeInfer() {
    return computeInfer;
  }

  public Duration computeOutput() {
    return computeOutput;
  }
}
