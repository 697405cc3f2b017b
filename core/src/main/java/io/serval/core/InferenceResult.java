package io.serval.core;

import java.util.List;

/** The outputs of a request, each with how it was asked for, ready to be encoded by a protocol. */
public final class InferenceResult {
  private final String modelName;
  private final String modelVersion;
  private final String id;
  private final List<Tensor> outputs;
  private final List<RequestedOutput> requested;
  private final RequestTimings timings;

  public InferenceResult(String modelName, String modelVersion, String id, List<Tensor> outputs,
      List<RequestedOutput> requested, RequestTimings timings) {
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

  /** How each output was asked for. */
  public List<RequestedOutput> requested() {
    return requested;
  }
}
