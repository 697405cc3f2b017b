package io.serval.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

  /**
   * The outputs this request asks for of {@code signature}: all of them when it names none (binary when {@link
   * #binaryOutputsByDefault}), else the ones it names, each checked to exist once.
   *
   * @param subject how messages name what answers ("model 'cls' version 1", "pipeline 'p'")
   * @throws InvalidInputException for an output the signature lacks, or one asked for twice
   */
  public List<RequestedOutput> outputsOf(String subject, ModelSignature signature) {
    if (outputs == null || outputs.isEmpty()) {
      List<RequestedOutput> all = new ArrayList<>(signature.outputs().size());
      signature.outputs().forEach(spec -> all.add(new RequestedOutput(spec.name(), binaryOutputsByDefault, 0)));
      return all;
    }
    Set<String> seen = new HashSet<>();
    for (RequestedOutput output : outputs) {
      if (signature.output(output.name()) == null) {
        List<String> names = new ArrayList<>();
        signature.outputs().forEach(spec -> names.add("'" + spec.name() + "'"));
        throw new InvalidInputException(subject + ": unexpected output '" + output.name()
            + "' (expected: " + String.join(", ", names) + ")");
      }
      if (!seen.add(output.name())) {
        throw new InvalidInputException(subject + ": output '" + output.name() + "' is requested twice");
      }
    }
    return outputs;
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
