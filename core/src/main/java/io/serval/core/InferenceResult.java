package io.serval.core;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The outputs of a request, each with how it was asked for, ready to be encoded by a protocol. */
public final class InferenceResult {
  private final String modelName;
  private final String modelVersion;
  private final String id;
  private final List<Tensor> outputs;
  private final List<RequestedOutput> requested;
  private final RequestTimings timings;
  private final Map<String, Object> parameters;

  public InferenceResult(String modelName, String modelVersion, String id, List<Tensor> outputs,
      List<RequestedOutput> requested, RequestTimings timings) {
    this(modelName, modelVersion, id, outputs, requested, timings, Map.of());
  }

  /**
   * A result with response {@code parameters} (the v2 response's {@code parameters}: Boolean, Long, Double or
   * String values, in the order given).
   */
  public InferenceResult(String modelName, String modelVersion, String id, List<Tensor> outputs,
      List<RequestedOutput> requested, RequestTimings timings, Map<String, Object> parameters) {
    this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    this.modelName = modelName;
    this.modelVersion = modelVersion;
    this.id = id;
    this.outputs = List.copyOf(outputs);
    this.requested = List.copyOf(requested);
    this.timings = timings;
  }

  public String modelName() {
    return modelName;
  }

  public String modelVersion() {
    return modelVersion;
  }

  public String id() {
    return id;
  }

  /** The output tensors, in the order of {@link #requested()}. */
  public List<Tensor> outputs() {
    return outputs;
  }

  /** Where the time went; all zero for an answer from the response cache. */
  public RequestTimings timings() {
    return timings;
  }

  /** The response's parameters; empty unless the servable adds some (a pipeline's node timings). */
  public Map<String, Object> parameters() {
    return parameters;
  }

  /** How each output was asked for. */
  public List<RequestedOutput> requested() {
    return requested;
  }
}
