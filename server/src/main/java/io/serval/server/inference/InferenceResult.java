package io.serval.server.inference;

import io.serval.engine.Tensor;
import java.util.List;

/** The outputs of a request, each with how it was asked for, ready to be encoded by a protocol. */
public final class InferenceResult {
  private final String modelName;
  private final String modelVersion;
  private final String id;
  private final List<Tensor> outputs;
  private final List<RequestedOutput> requested;

  InferenceResult(
      String modelName, String modelVersion, String id, List<Tensor> outputs, List<RequestedOutput> requested) {
    this.modelName = modelName;
    this.modelVersion = modelVersion;
    this.id = id;
    this.outputs = List.copyOf(outputs);
    this.requested = List.copyOf(requested);
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

  /** How each output was asked for. */
  public List<RequestedOutput> requested() {
    return requested;
  }
}
