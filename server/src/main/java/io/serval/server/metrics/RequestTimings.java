package io.serval.server.metrics;

/**
 * The phases of one successful request, in nanoseconds: waiting for an instance, preparing the engine call,
 * the engine run, and turning outputs into the response (classification included).
 */
public final class RequestTimings {
  private final long queueNanos;
  private final long computeInputNanos;
  private final long computeInferNanos;
  private final long computeOutputNanos;

  public RequestTimings(long queueNanos, long computeInputNanos, long computeInferNanos, long computeOutputNanos) {
    this.queueNanos = queueNanos;
    this.computeInputNanos = computeInputNanos;
    this.computeInferNanos = computeInferNanos;
    this.computeOutputNanos = computeOutputNanos;
  }

  public long queueNanos() {
    return queueNanos;
  }

  public long computeInputNanos() {
    return computeInputNanos;
  }

  public long computeInferNanos() {
    return computeInferNanos;
  }

  public long computeOutputNanos() {
    return computeOutputNanos;
  }

  /** The same timings with the output phase set. */
  public RequestTimings withComputeOutput(long nanos) {
    return new RequestTimings(queueNanos, computeInputNanos, computeInferNanos, nanos);
  }
}
