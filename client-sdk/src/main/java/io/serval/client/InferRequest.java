package io.serval.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One inference call: the model (or pipeline, or A/B route) and version, the inputs, the outputs asked for, the
 * request parameters and the call's own timeout. Immutable; made by {@link #builder(String)}.
 *
 * <pre>{@code
 * InferRequest request = InferRequest.builder("digits")
 *     .input(InferTensor.ofFloats("x", new long[] {1, 1, 28, 28}, pixels))
 *     .output("probabilities")
 *     .priority(1)
 *     .timeout(Duration.ofMillis(200))
 *     .build();
 * }</pre>
 */
public final class InferRequest {
  private final String model;
  private final String version;
  private final String id;
  private final List<InferTensor> inputs;
  private final Map<String, Integer> outputs;
  private final Map<String, Object> parameters;
  private final @Nullable Duration timeout;

  InferRequest(String model, String version, String id, List<InferTensor> inputs, Map<String, Integer> outputs,
      Map<String, Object> parameters, @Nullable Duration timeout) {
    this.model = model;
    this.version = version;
    this.id = id;
    this.inputs = inputs;
    this.outputs = outputs;
    this.parameters = parameters;
    this.timeout = timeout;
  }

  /** A builder of a request to {@code model}: a model, a pipeline or (Serval) an A/B route. */
  public static InferRequestBuilder builder(String model) {
    return new InferRequestBuilder(model);
  }

  /** The model, pipeline or route called. */
  public String model() {
    return model;
  }

  /** The version asked for (a number, or a Serval version label), or empty for the server's choice. */
  public String version() {
    return version;
  }

  /** The request id sent to the server and echoed in its answer; empty when none was set. */
  public String id() {
    return id;
  }

  /** The inputs, in the order they were added. */
  public List<InferTensor> inputs() {
    return inputs;
  }

  /**
   * The outputs asked for, by name, each with its classification count (0: the tensor itself); empty asks for
   * every output.
   */
  public Map<String, Integer> outputs() {
    return outputs;
  }

  /**
   * The request parameters: {@code priority}, {@code timeout} (the queue timeout in microseconds), Serval's
   * {@code serval_route_key} and {@code serval_variant}, and any others set; values are {@code Long}, {@code
   * Double}, {@code Boolean} or {@code String}.
   */
  public Map<String, Object> parameters() {
    return parameters;
  }

  /** This call's timeout, or {@code null} for the client's default. */
  public @Nullable Duration timeout() {
    return timeout;
  }

  @Override
  public String toString() {
    return "InferRequest{model=" + model + (version.isEmpty() ? "" : ", version=" + version)
        + (id.isEmpty() ? "" : ", id=" + id) + ", inputs=" + inputs + "}";
  }
}
