package io.serval.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A server's answer to an {@link InferRequest}: the model and version that ran, the request id, the response
 * parameters and the output tensors, which are views of the response's bytes.
 *
 * <pre>{@code
 * InferResult result = client.infer(request);
 * float[] probabilities = result.output("probabilities").toFloatArray();
 * }</pre>
 */
public final class InferResult {
  private final String modelName;
  private final String modelVersion;
  private final String id;
  private final Map<String, Object> parameters;
  private final Map<String, InferTensor> outputs;

  private InferResult(String modelName, String modelVersion, String id, Map<String, Object> parameters,
      Map<String, InferTensor> outputs) {
    this.modelName = modelName;
    this.modelVersion = modelVersion;
    this.id = id;
    this.parameters = parameters;
    this.outputs = outputs;
  }

  /** A result, as a transport decodes it; outputs keep their order. */
  public static InferResult of(String modelName, String modelVersion, String id, Map<String, Object> parameters,
      List<InferTensor> outputs) {
    Map<String, InferTensor> byName = new LinkedHashMap<>();
    for (InferTensor output : outputs) {
      byName.put(output.name(), output);
    }
    return new InferResult(modelName, modelVersion, id, Collections.unmodifiableMap(new LinkedHashMap<>(parameters)),
        Collections.unmodifiableMap(byName));
  }

  /** The model that ran (for a Serval A/B route, the variant's model). */
  public String modelName() {
    return modelName;
  }

  /** The version that ran. */
  public String modelVersion() {
    return modelVersion;
  }

  /** The request's id, as the server echoed it; empty when the request had none. */
  public String id() {
    return id;
  }

  /** The response parameters ({@code Long}, {@code Double}, {@code Boolean} or {@code String} values). */
  public Map<String, Object> parameters() {
    return parameters;
  }

  /** Serval only: the A/B route variant that answered, or {@code null} when no route was called. */
  public @Nullable String variant() {
    Object variant = parameters.get("serval_variant");
    return variant == null ? null : variant.toString();
  }

  /** Every output, in the server's order. */
  public List<InferTensor> outputs() {
    return new ArrayList<>(outputs.values());
  }

  /**
   * The output {@code name}.
   *
   * @throws IllegalArgumentException when the answer has no such output, naming those it has
   */
  public InferTensor output(String name) {
    InferTensor output = outputs.get(name);
    if (output == null) {
      throw new IllegalArgumentException("the answer of '" + modelName + "' has no output '" + name
          + "' (expected one of: " + String.join(", ", outputs.keySet()) + ")");
    }
    return output;
  }

  @Override
  public String toString() {
    return "InferResult{model=" + modelName + ", version=" + modelVersion + (id.isEmpty() ? "" : ", id=" + id)
        + ", outputs=" + outputs.values() + "}";
  }
}
