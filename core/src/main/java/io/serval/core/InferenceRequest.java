package io.serval.core;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A decoded prediction request: what to run. Which model version runs it is resolved first ({@link
 * InferenceService#resolve}) and handed to {@link InferenceService#infer} beside it. {@code outputs} is {@code null} when the caller asked for no particular outputs,
 * meaning all of them, each binary when {@code binaryOutputsByDefault}. The {@code priority} and {@code timeout}
 * (microseconds) parameters of Triton's schedule-policy extension are read from {@code parameters}. The input
 * tensors live in the request's {@link #memory()}, which the front end releases once the answer is encoded.
 */
public final class InferenceRequest {
  private final String id;
  private final Map<String, Object> parameters;
  private final List<Tensor> inputs;
  private final @Nullable List<RequestedOutput> outputs;
  private final boolean binaryOutputsByDefault;
  private final long deadlineNanos;
  private final MemoryScope memory;

  public InferenceRequest(
      String id,
      Map<String, Object> parameters,
      List<Tensor> inputs,
      @Nullable List<RequestedOutput> outputs,
      boolean binaryOutputsByDefault,
      long deadlineNanos,
      MemoryScope memory) {
    this.id = id;
    this.parameters = Map.copyOf(parameters);
    this.inputs = List.copyOf(inputs);
    this.outputs = outputs == null ? null : List.copyOf(outputs);
    this.binaryOutputsByDefault = binaryOutputsByDefault;
    this.deadlineNanos = deadlineNanos;
    this.memory = memory;
  }

  /** Refuses Triton's shared-memory parameters, which Serval does not support, for both front ends. */
  public static void rejectSharedMemory(Map<String, Object> parameters, String what) {
    if (parameters.containsKey("shared_memory_region")) {
      throw new UnsupportedFeatureException(what + " uses shared_memory_region; Serval does not support shared"
          + " memory tensors (send the data in the request)");
    }
  }

  /** The scope the input tensors were allocated in. */
  public MemoryScope memory() {
    return memory;
  }

  /** The caller's request id, echoed in the response; empty when none was given. */
  public String id() {
    return id;
  }

  /** Request parameters (Boolean, Long, Double or String values). */
  public Map<String, Object> parameters() {
    return parameters;
  }

  public List<Tensor> inputs() {
    return inputs;
  }

  public @Nullable List<RequestedOutput> outputs() {
    return outputs;
  }

  public boolean binaryOutputsByDefault() {
    return binaryOutputsByDefault;
  }

  /**
   * The deadline the transport set (a gRPC deadline, the {@code Serval-Timeout-Us} header), as a {@link
   * System#nanoTime()} value; 0 for none. A request still queued then is answered DEADLINE_EXCEEDED, not run.
   */
  public long deadlineNanos() {
    return deadlineNanos;
  }
}
