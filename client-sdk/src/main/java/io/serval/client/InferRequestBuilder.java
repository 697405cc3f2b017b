package io.serval.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Builds an {@link InferRequest}; each setter checks its value at once and names it when it is wrong.
 *
 * <p>{@link #routeKey} and {@link #variant} are Serval's A/B route hints, sent as request parameters so that they
 * travel alike over HTTP and gRPC; other servers ignore them.
 */
public final class InferRequestBuilder {
  private final String model;
  private String version = "";
  private String id = "";
  private final List<InferTensor> inputs = new ArrayList<>();
  private final Map<String, Integer> outputs = new LinkedHashMap<>();
  private final Map<String, Object> parameters = new LinkedHashMap<>();
  private @Nullable Duration timeout;

  InferRequestBuilder(String model) {
    if (model.isEmpty()) {
      throw new IllegalArgumentException("model: \"\" (expected: a model, pipeline or route name)");
    }
    this.model = model;
  }

  /** The version: a number, or a Serval version label ({@code "canary"}). */
  public InferRequestBuilder version(String version) {
    this.version = Objects.requireNonNull(version, "version");
    return this;
  }

  /** The version number. */
  public InferRequestBuilder version(long version) {
    if (version < 1) {
      throw new IllegalArgumentException("version: " + version + " (expected: >= 1)");
    }
    this.version = Long.toString(version);
    return this;
  }

  /** A request id, echoed in the answer; it tells the answers of a stream apart. */
  public InferRequestBuilder id(String id) {
    this.id = Objects.requireNonNull(id, "id");
    return this;
  }

  /** Adds an input; its name must differ from every other input's. */
  public InferRequestBuilder input(InferTensor input) {
    for (InferTensor existing : inputs) {
      if (existing.name().equals(input.name())) {
        throw new IllegalArgumentException("input '" + input.name() + "' is added twice (expected: one tensor per"
            + " input name)");
      }
    }
    inputs.add(input);
    return this;
  }

  /** Adds inputs. */
  public InferRequestBuilder inputs(Iterable<InferTensor> tensors) {
    tensors.forEach(this::input);
    return this;
  }

  /** Asks for output {@code name}; without any, the server returns every output. */
  public InferRequestBuilder output(String name) {
    outputs.put(name, 0);
    return this;
  }

  /**
   * Asks for output {@code name} through the classification extension: its top {@code classes} classes, each as
   * a BYTES element {@code "score:index[:label]"}.
   */
  public InferRequestBuilder classification(String name, int classes) {
    if (classes < 1) {
      throw new IllegalArgumentException("classes: " + classes + " (expected: >= 1)");
    }
    outputs.put(name, classes);
    return this;
  }

  /** The request's priority level (1 is the highest; 0: the model's default). */
  public InferRequestBuilder priority(int priority) {
    if (priority < 0) {
      throw new IllegalArgumentException("priority: " + priority + " (expected: >= 0)");
    }
    parameters.put("priority", (long) priority);
    return this;
  }

  /**
   * How long the request may wait in the server's queue (the v2 {@code timeout} parameter, sent in
   * microseconds), where the model allows a request to override its default.
   */
  public InferRequestBuilder queueTimeout(Duration queueTimeout) {
    if (queueTimeout.isNegative() || queueTimeout.isZero()) {
      throw new IllegalArgumentException("queueTimeout: " + queueTimeout + " (expected: > 0)");
    }
    parameters.put("timeout", queueTimeout.toNanos() / 1000);
    return this;
  }

  /**
   * This call's timeout, over every retry; it replaces the client's default. Over gRPC it is the call's deadline
   * ({@code grpc-timeout}), over HTTP it is also sent to Serval as {@code Serval-Timeout-Us}: either way the
   * server drops a request whose caller has stopped waiting.
   */
  public InferRequestBuilder timeout(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
    }
    this.timeout = timeout;
    return this;
  }

  /** Serval only: the sticky key of an A/B route; requests with one key stay on one variant. */
  public InferRequestBuilder routeKey(String key) {
    parameters.put("serval_route_key", Objects.requireNonNull(key, "key"));
    return this;
  }

  /** Serval only: forces the A/B route's variant {@code variant}. */
  public InferRequestBuilder variant(String variant) {
    parameters.put("serval_variant", Objects.requireNonNull(variant, "variant"));
    return this;
  }

  /** A request parameter: a {@code Long}, {@code Integer}, {@code Double}, {@code Boolean} or {@code String}. */
  public InferRequestBuilder parameter(String name, Object value) {
    Object normalized = value instanceof Integer number ? (Object) number.longValue() : value;
    if (!(normalized instanceof Long || normalized instanceof Double || normalized instanceof Boolean
        || normalized instanceof String)) {
      throw new IllegalArgumentException("parameter '" + name + "': " + value.getClass().getSimpleName()
          + " (expected: Long, Integer, Double, Boolean or String)");
    }
    parameters.put(name, normalized);
    return this;
  }

  /**
   * The request.
   *
   * @throws IllegalStateException when no input was added
   */
  public InferRequest build() {
    if (inputs.isEmpty()) {
      throw new IllegalStateException("request to '" + model + "' has no inputs (expected: at least one)");
    }
    return new InferRequest(model, version, id, List.copyOf(inputs),
        Collections.unmodifiableMap(new LinkedHashMap<>(outputs)),
        Collections.unmodifiableMap(new LinkedHashMap<>(parameters)), timeout);
  }
}
