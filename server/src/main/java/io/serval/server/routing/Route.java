package io.serval.server.routing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.ModelSignature;
import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.core.Tensor;
import io.serval.dag.ServableResolver;
import io.serval.server.routing.RouteDefinition.Shadow;
import io.serval.server.routing.RouteDefinition.Variant;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * A route, served like a model through {@link #with}: each request goes to one variant, chosen by the request's sticky key when it has
 * one (weighted rendezvous hashing: a key keeps its variant while the weights change, except for the keys a
 * change must move), else at random by weight; a variant named by the request wins. The variant's model is
 * resolved per request, so routes follow hot reloads. The answer carries the variant in its parameters
 * ({@value RouteHints#VARIANT_PARAMETER}).
 *
 * <p>A shadow gets a copy of the request once the primary has answered, on the shadow threads, bounded by {@code
 * max_inflight} copies at a time (more are dropped, never queued) and {@code timeout_ms}: the caller never waits
 * for it or sees its errors. Its latency, errors, drops and disagreements with the primary's outputs are counted.
 */
public final class Route {
  private final RouteDefinition definition;
  private final ServableResolver servables;
  private final ModelSignature signature;
  private final int maxBatchSize;
  private final RouteMetrics metrics;
  private final @Nullable Semaphore shadowSlots;
  private final Executor shadowExecutor;
  private volatile Map<String, Integer> weights;

  Route(RouteDefinition definition, ServableResolver servables, ModelSignature signature, int maxBatchSize,
      RouteMetrics metrics, Map<String, Integer> weights, Executor shadowExecutor) {
    this.definition = definition;
    this.shadowExecutor = shadowExecutor;
    this.servables = servables;
    this.signature = signature;
    this.maxBatchSize = maxBatchSize;
    this.metrics = metrics;
    this.shadowSlots = definition.shadow() == null ? null : new Semaphore(definition.shadow().maxInflight());
    this.weights = Map.copyOf(weights);
  }

  /** The route as configured. */
  public RouteDefinition definition() {
    return definition;
  }

  /** The weights in force, by variant, in the configuration's order. */
  public Map<String, Integer> weights() {
    Map<String, Integer> ordered = new LinkedHashMap<>();
    for (Variant variant : definition.variants()) {
      ordered.put(variant.name(), weights.get(variant.name()));
    }
    return ordered;
  }

  /**
   * Sets every variant's weight.
   *
   * @throws InvalidInputException when a variant is missing or unknown, a weight is not 0 to 1,000,000, or all
   *     are 0
   */
  void weights(Map<String, Integer> newWeights) {
    List<String> names = definition.variants().stream().map(Variant::name).toList();
    for (String name : newWeights.keySet()) {
      if (!names.contains(name)) {
        throw new InvalidInputException(label() + " has no variant '" + name + "' (variants: "
            + String.join(", ", names) + ")");
      }
    }
    for (String name : names) {
      Integer weight = newWeights.get(name);
      if (weight == null) {
        throw new InvalidInputException(label() + ": no weight for variant '" + name + "' (expected: a"
            + " weight for each of " + String.join(", ", names) + ")");
      }
      if (weight < 0 || weight > 1_000_000) {
        throw new InvalidInputException(label() + ": variant '" + name + "' weight " + weight
            + " (expected: an integer from 0 to 1000000)");
      }
    }
    if (newWeights.values().stream().allMatch(weight -> weight == 0)) {
      throw new InvalidInputException(label() + ": every weight is 0 (expected: at least one above 0)");
    }
    this.weights = Map.copyOf(newWeights);
  }

  /** Counts by variant, for the console. */
  public RouteMetrics metrics() {
    return metrics;
  }

  /** This route for one call, with the call's hints: what the front ends resolve and run. */
  public Servable with(RouteHints hints) {
    return new Call(hints);
  }

  /** The route as a {@link Servable} for one call. */
  private final class Call implements Servable {
    private final RouteHints hints;

    Call(RouteHints hints) {
      this.hints = hints;
    }

    @Override
    public String name() {
      return definition.name();
    }

    @Override
    public String version() {
      return "1";
    }

    @Override
    public ModelSignature signature() {
      return signature;
    }

    @Override
    public int maxBatchSize() {
      return maxBatchSize;
    }

    @Override
    public String label() {
      return Route.this.label();
    }

    @Override
    public CompletableFuture<InferenceResult> infer(InferenceRequest request, Executor executor) {
      return Route.this.infer(request, executor, hints);
    }
  }

  private String label() {
    return "route '" + definition.name() + "'";
  }

  private CompletableFuture<InferenceResult> infer(InferenceRequest request, Executor executor, RouteHints hints) {
    long started = System.nanoTime();
    Variant variant;
    Servable target;
    try {
      variant = choose(request, hints);
      target = servables.resolve(variant.model(), variant.version());
    } catch (ServalException e) {
      return CompletableFuture.failedFuture(e);
    }
    @Nullable ShadowCopy copy = shadowCopy(request);
    CompletableFuture<InferenceResult> primary = target.infer(request, executor);
    CompletableFuture<InferenceResult> answer = primary.handle((result, error) -> {
      metrics.variant(variant.name(), error == null ? "success" : ServalException.of(error).kind().name()
          .toLowerCase(Locale.ROOT), System.nanoTime() - started);
      if (copy != null) {
        copy.primaryDone(result);
      }
      if (error != null) {
        throw ServalException.of(error);
      }
      Map<String, Object> parameters = new LinkedHashMap<>(result.parameters());
      parameters.put(RouteHints.VARIANT_PARAMETER, variant.name());
      return new InferenceResult(result.modelName(), result.modelVersion(), result.id(), result.outputs(),
          result.requested(), result.timings(), parameters);
    });
    answer.whenComplete((result, error) -> {
      if (error instanceof CancellationException) {
        primary.cancel(false);
      }
    });
    return answer;
  }

  /** The variant a request goes to: the one it names, else by its key, else at random by weight. */
  Variant choose(InferenceRequest request, RouteHints hints) {
    String forced = text(request.parameters().get(RouteHints.VARIANT_PARAMETER));
    if (forced == null) {
      forced = hints.header(RouteHints.VARIANT_HEADER);
    }
    if (forced != null) {
      for (Variant variant : definition.variants()) {
        if (variant.name().equals(forced)) {
          return variant;
        }
      }
      throw new InvalidInputException(label() + " has no variant '" + forced + "' (variants: "
          + definition.variants().stream().map(Variant::name).collect(Collectors.joining(", ")) + ")");
    }
    String key = text(request.parameters().get(RouteHints.KEY_PARAMETER));
    if (key == null) {
      key = hints.header(RouteHints.KEY_HEADER);
    }
    if (key == null && definition.keyHeader() != null) {
      key = hints.header(definition.keyHeader().toLowerCase(Locale.ROOT));
    }
    return key == null ? byWeight(ThreadLocalRandom.current().nextDouble()) : byKey(key);
  }

  private static @Nullable String text(@Nullable Object value) {
    return value == null ? null : value.toString();
  }

  /** Weighted rendezvous hashing: the variant whose -weight / ln(u(key, variant)) is highest. */
  Variant byKey(String key) {
    Map<String, Integer> current = weights;
    Variant best = null;
    double bestScore = Double.NEGATIVE_INFINITY;
    for (Variant variant : definition.variants()) {
      int weight = current.get(variant.name());
      if (weight == 0) {
        continue;
      }
      double score = -weight / Math.log(unit(key, variant.name()));
      if (score > bestScore) {
        bestScore = score;
        best = variant;
      }
    }
    return best;
  }

  private Variant byWeight(double draw) {
    Map<String, Integer> current = weights;
    long total = current.values().stream().mapToLong(Integer::longValue).sum();
    double point = draw * total;
    Variant last = null;
    for (Variant variant : definition.variants()) {
      int weight = current.get(variant.name());
      if (weight == 0) {
        continue;
      }
      last = variant;
      point -= weight;
      if (point < 0) {
        return variant;
      }
    }
    return last;
  }

  /** A number in (0, 1) from a key and a variant name, evenly spread (FNV-1a, then MurmurHash3's finaliser). */
  private static double unit(String key, String variant) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : (key + '\u0000' + variant).getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= 0x100000001b3L;
    }
    hash ^= hash >>> 33;
    hash *= 0xff51afd7ed558ccdL;
    hash ^= hash >>> 33;
    hash *= 0xc4ceb9fe1a85ec53L;
    hash ^= hash >>> 33;
    return ((hash >>> 11) + 0.5) / (1L << 53);
  }

  /** A copy of the request for the shadow, or {@code null} without a shadow or a free slot. */
  private @Nullable ShadowCopy shadowCopy(InferenceRequest request) {
    Shadow shadow = definition.shadow();
    if (shadow == null) {
      return null;
    }
    if (!shadowSlots.tryAcquire()) {
      metrics.shadow("dropped", 0);
      return null;
    }
    List<Tensor> inputs = new ArrayList<>(request.inputs().size());
    request.inputs().forEach(input -> inputs.add(input.compactCopy()));
    Map<String, Object> parameters = new HashMap<>(request.parameters());
    parameters.remove(RouteHints.VARIANT_PARAMETER);
    parameters.remove(RouteHints.KEY_PARAMETER);
    return new ShadowCopy(shadow, new InferenceRequest(request.id(), parameters, inputs, request.outputs(),
        request.binaryOutputsByDefault(), 0, MemoryScope.open()));
  }

  /** One copy on its way to the shadow; compared with the primary's outputs once both are done. */
  private final class ShadowCopy {
    private final Shadow shadow;
    private final InferenceRequest request;
    /** A copy of the primary's outputs, set before the shadow runs; {@code null} when the primary failed. */
    private @Nullable List<Tensor> primaryOutputs;

    ShadowCopy(Shadow shadow, InferenceRequest request) {
      this.shadow = shadow;
      this.request = request;
    }

    /**
     * Called when the primary answered (or failed: {@code null}): keeps a copy of its outputs (the answer's memory
     * is freed once it is sent) and hands the shadow's run to the shadow threads.
     */
    void primaryDone(@Nullable InferenceResult result) {
      List<Tensor> outputs = null;
      if (result != null) {
        outputs = new ArrayList<>(result.outputs().size());
        for (Tensor output : result.outputs()) {
          outputs.add(output.compactCopy());
        }
      }
      primaryOutputs = outputs;
      try {
        shadowExecutor.execute(this::run);
      } catch (RuntimeException e) {
        // The shadow threads are gone (the server is stopping): the copy is dropped.
        request.memory().release();
        shadowSlots.release();
      }
    }

    private void run() {
      long since = System.nanoTime();
      CompletableFuture<InferenceResult> started;
      try {
        started = servables.resolve(shadow.model(), shadow.version()).infer(request, shadowExecutor);
      } catch (RuntimeException e) {
        started = CompletableFuture.failedFuture(e);
      }
      CompletableFuture<InferenceResult> run = started;
      run.orTimeout(shadow.timeoutMs(), TimeUnit.MILLISECONDS).whenComplete((shadowResult, error) -> {
        try {
          long nanos = System.nanoTime() - since;
          if (error != null) {
            metrics.shadow("failure", nanos);
            run.cancel(false);
          } else {
            metrics.shadow("success", nanos);
            if (primaryOutputs != null) {
              metrics.comparison(agree(primaryOutputs, shadowResult.outputs(), shadow.tolerance()));
            }
          }
        } finally {
          request.memory().release();
          shadowSlots.release();
        }
      });
    }
  }

  /** Whether two answers carry the same outputs: same names, types and shapes, values within {@code tolerance}. */
  static boolean agree(List<Tensor> primary, List<Tensor> shadow, double tolerance) {
    if (primary.size() != shadow.size()) {
      return false;
    }
    for (int i = 0; i < primary.size(); i++) {
      Tensor a = primary.get(i);
      Tensor b = shadow.get(i);
      if (!a.name().equals(b.name()) || a.dataType() != b.dataType()
          || !Arrays.equals(a.shape(), b.shape())) {
        return false;
      }
      if (a.dataType() == DataType.FP32 || a.dataType() == DataType.FP64) {
        ByteBuffer x = a.data();
        ByteBuffer y = b.data();
        boolean single = a.dataType() == DataType.FP32;
        int step = single ? 4 : 8;
        for (int at = 0; at + step <= x.remaining(); at += step) {
          double u = single ? x.getFloat(x.position() + at) : x.getDouble(x.position() + at);
          double v = single ? y.getFloat(y.position() + at) : y.getDouble(y.position() + at);
          if (!(Math.abs(u - v) <= tolerance)) {
            return false;
          }
        }
      } else if (!a.data().equals(b.data())) {
        return false;
      }
    }
    return true;
  }

  /** The meters of one route: requests by variant and outcome, and the shadow's runs and comparisons. */
  public static final class RouteMetrics {
    private final MeterRegistry registry;
    private final String route;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    RouteMetrics(MeterRegistry registry, String route) {
      this.registry = registry;
      this.route = route;
    }

    void variant(String variant, String outcome, long nanos) {
      counter("serval.route.requests", "variant", variant, "outcome", outcome).increment();
      timers.computeIfAbsent("v/" + variant, key -> Timer.builder("serval.route.request")
          .description("Time from a route's request to its variant's answer")
          .tags("route", route, "variant", variant)
          .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }

    void shadow(String outcome, long nanos) {
      counter("serval.route.shadow.requests", "outcome", outcome).increment();
      if (!outcome.equals("dropped")) {
        timers.computeIfAbsent("shadow", key -> Timer.builder("serval.route.shadow")
            .description("Time a shadow copy took, off the caller's path")
            .tags("route", route)
            .register(registry)).record(nanos, TimeUnit.NANOSECONDS);
      }
    }

    void comparison(boolean agreed) {
      counter("serval.route.shadow.comparisons", "result", agreed ? "agreed" : "disagreed").increment();
    }

    /** Requests answered so far by {@code variant} (any outcome). */
    public double requests(String variant) {
      return registry.find("serval.route.requests").tags("route", route, "variant", variant).counters().stream()
          .mapToDouble(Counter::count).sum();
    }

    private Counter counter(String name, String... tags) {
      return counters.computeIfAbsent(name + String.join("/", tags), key -> Counter.builder(name)
          .tags("route", route)
          .tags(tags)
          .register(registry));
    }

    void close() {
      registry.getMeters().stream().filter(meter -> route.equals(meter.getId().getTag("route")))
          .filter(meter -> meter.getId().getName().startsWith("serval.route"))
          .forEach(registry::remove);
    }
  }
}
