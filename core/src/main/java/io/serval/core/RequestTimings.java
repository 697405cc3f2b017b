package io.serval.core;

/**
 * The phases of one successful request, in nanoseconds: waiting for an instance, preparing the engine's inputs,
 * the engine run, and reading the outputs back and turning them into the response (classification included).
 */
public final class RequestTimings {
  /** No time in any phase. */
  public static final RequestTimings NONE = new RequestTimings(0, 0, 0, 0);

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

  /** The same timings with {@code nanos} more spent on the output phase. */
  public RequestTimings plusComputeOutput(long nanos) {
    return new RequestTimings(queueNanos, computeInputNanos, computeInferNanos, computeOutputNanos + nanos);
  }
}
