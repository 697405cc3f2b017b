package io.serval.engine;

import io.serval.core.Tensor;
import java.util.List;

/**
 * The outputs of one {@link ModelInstance#run} and the time its phases took, in nanoseconds: preparing the
 * inputs for the engine, the engine's own run, and reading the outputs back. The server reports them as the
 * statistics extension's {@code compute_input}, {@code compute_infer} and {@code compute_output}.
 */
public final class RunResult {
  private final List<Tensor> outputs;
  private final long inputNanos;
  private final long inferNanos;
  private final long outputNanos;

  private RunResult(List<Tensor> outputs, long inputNanos, long inferNanos, long outputNanos) {
    this.outputs = List.copyOf(outputs);
    this.inputNanos = inputNanos;
    this.inferNanos = inferNanos;
    this.outputNanos = outputNanos;
  }

  public static RunResult of(List<Tensor> outputs, long inputNanos, long inferNanos, long outputNanos) {
    return new RunResult(outputs, inputNanos, inferNanos, outputNanos);
  }

  /** The outputs, in the order they were asked for. */
  public List<Tensor> outputs() {
    return outputs;
  }

  public long inputNanos() {
    return inputNanos;
  }

  public long inferNanos() {
    return inferNanos;
  }

  public long outputNanos() {
    return outputNanos;
  }
}
