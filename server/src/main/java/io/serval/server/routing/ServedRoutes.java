package io.serval.server.routing;

import io.micrometer.core.instrument.MeterRegistry;
import io.serval.core.ModelNotFoundException;
import io.serval.core.ModelUnavailableException;
import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.dag.ServableResolver;
import io.serval.server.routing.RouteDefinition.Variant;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The repository's routes ({@code <repo>/<name>/route.yaml}), checked against what is served at start and again
 * after every change of the repository ({@link #reload}). A route whose variants do not resolve, or do not take
 * and give the same tensors, is not served and lists why; one served before keeps serving its previous form.
 * Weights changed through the management API last until the server stops or the route's own weights in its file
 * change.
 */
public final class ServedRoutes implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServedRoutes.class);

  /** One route: served, or refused with its problems. */
  public record Entry(String name, @Nullable Route route, String reason) {}

  private final ServableResolver servables;
  private final MeterRegistry registry;
  private final ConcurrentSkipListMap<String, Entry> routes = new ConcurrentSkipListMap<>();
  private final Map<String, Route.RouteMetrics> meters = new HashMap<>();
  /** The weights each route's file gave at its last compilation, to tell when the file changed them. */
  private final Map<String, Map<String, Integer>> configured = new HashMap<>();
  private final ExecutorService shadows;

  private ServedRoutes(ServableResolver servables, MeterRegistry registry) {
    this.servables = servables;
    this.registry = registry;
    AtomicInteger threads = new AtomicInteger();
    this.shadows = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors() / 2),
        task -> {
          Thread thread = new Thread(task, "serval-shadow-" + threads.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        });
  }

  /** The routes in {@code folders}; their variants resolve through {@code servables}. */
  public static ServedRoutes load(Map<String, Path> folders, ServableResolver servables, MeterRegistry registry) {
    ServedRoutes routes = new ServedRoutes(servables, registry);
    routes.reload(folders);
    return routes;
  }

  /** Checks the routes in {@code folders} anew against what is served now; stops serving those gone. */
  public synchronized void reload(Map<String, Path> folders) {
    folders.forEach((name, folder) -> {
      Entry previous = routes.get(name);
      try {
        RouteDefinition definition = RouteDefinition.read(name, folder);
        Route route = compile(definition, previous);
        if (previous == null || previous.route() == null) {
          log.info("route {}: {}", name, route.weights());
        }
        routes.put(name, new Entry(name, route, ""));
      } catch (InvalidRouteException e) {
        String problems = String.join("; ", e.problems());
        if (previous != null && previous.reason().endsWith(problems)) {
          return;
        }
        e.problems().forEach(problem -> log.error("route {}: {}", name, problem));
        Route serving = previous == null ? null : previous.route();
        routes.put(name, new Entry(name, serving, serving != null
            ? "the route as it is now is refused (its previous form keeps serving): " + problems : problems));
      }
    });
    for (String name : List.copyOf(routes.keySet())) {
      if (!folders.containsKey(name)) {
        routes.remove(name);
        configured.remove(name);
        Route.RouteMetrics gone = meters.remove(name);
        if (gone != null) {
          gone.close();
        }
        log.info("route {}: removed", name);
      }
    }
  }

  private Route compile(RouteDefinition definition, @Nullable Entry previous) throws InvalidRouteException {
    List<String> problems = new ArrayList<>();
    Servable first = null;
    int maxBatchSize = Integer.MAX_VALUE;
    List<Variant> variants = definition.variants();
    for (int i = 0; i < variants.size(); i++) {
      Variant variant = variants.get(i);
      Servable servable = resolve(variant.model(), variant.version(), RouteDefinition.FILE + ": variants[" + i
          + "] (" + variant.name() + ")", problems);
      if (servable == null) {
        continue;
      }
      if (definition.name().equals(variant.model())) {
        problems.add(RouteDefinition.FILE + ": variants[" + i + "] (" + variant.name() + "): '" + variant.model()
            + "' is a route (expected: a model or a pipeline)");
        continue;
      }
      maxBatchSize = Math.min(maxBatchSize, servable.maxBatchSize());
      if (first == null) {
        first = servable;
      } else if (!sameTensors(first, servable)) {
        problems.add(RouteDefinition.FILE + ": variants[" + i + "] (" + variant.name() + "): " + servable.label()
            + " takes and gives " + servable.signature() + ", unlike " + first.label() + " ("
            + first.signature() + "); every variant must answer the same request the same way");
      }
    }
    if (definition.shadow() != null) {
      RouteDefinition.Shadow shadow = definition.shadow();
      Servable servable = resolve(shadow.model(), shadow.version(), RouteDefinition.FILE + ": shadow", problems);
      if (servable != null && first != null && !sameTensors(first, servable)) {
        problems.add(RouteDefinition.FILE + ": shadow: " + servable.label() + " takes and gives "
            + servable.signature() + ", unlike " + first.label() + " (" + first.signature() + ")");
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidRouteException(problems);
    }
    String name = definition.name();
    Map<String, Integer> fileWeights = new LinkedHashMap<>();
    variants.forEach(variant -> fileWeights.put(variant.name(), variant.weight()));
    Map<String, Integer> weights = fileWeights;
    Map<String, Integer> lastFile = configured.put(name, fileWeights);
    if (previous != null && previous.route() != null && fileWeights.equals(lastFile)
        && previous.route().weights().keySet().equals(fileWeights.keySet())) {
      weights = previous.route().weights();
    }
    Route.RouteMetrics routeMetrics = meters.computeIfAbsent(name, key -> new Route.RouteMetrics(registry, name));
    return new Route(definition, servables, first.signature(), maxBatchSize, routeMetrics, weights, shadows);
  }

  private @Nullable Servable resolve(String model, String version, String where, List<String> problems) {
    try {
      return servables.resolve(model, version);
    } catch (ServalException e) {
      problems.add(where + ": " + e.getMessage());
      return null;
    }
  }

  private static boolean sameTensors(Servable a, Servable b) {
    return a.signature().toString().equals(b.signature().toString());
  }

  /** The route of that name, or {@code null} when there is none. */
  public @Nullable Entry get(String name) {
    return routes.get(name);
  }

  /**
   * The route a request names, with its call's hints; {@code version} is empty or {@code 1}.
   *
   * @throws ModelNotFoundException for another version
   * @throws ModelUnavailableException for a route that is not served
   */
  public static Servable resolve(Entry entry, String version, RouteHints hints) {
    if (!version.isEmpty() && !version.equals("1")) {
      throw new ModelNotFoundException("route '" + entry.name() + "' has no version " + version
          + " (served versions: 1)");
    }
    if (entry.route() == null) {
      throw new ModelUnavailableException("route '" + entry.name() + "' is unavailable: " + entry.reason());
    }
    return entry.route().with(hints);
  }

  /**
   * Sets route {@code name}'s weights, one per variant.
   *
   * @throws ModelNotFoundException for an unknown or unserved route
   * @throws io.serval.core.InvalidInputException for weights that do not fit its variants
   */
  public synchronized Route setWeights(String name, Map<String, Integer> weights) {
    Entry entry = routes.get(name);
    if (entry == null || entry.route() == null) {
      throw new ModelNotFoundException("no route '" + name + "' is served (routes: " + (routes.isEmpty() ? "none"
          : String.join(", ", routes.keySet())) + ")");
    }
    entry.route().weights(weights);
    log.info("route {}: weights {}", name, entry.route().weights());
    return entry.route();
  }

  public Collection<Entry> all() {
    return routes.values();
  }

  @Override
  public synchronized void close() {
    shadows.shutdownNow();
    meters.values().forEach(Route.RouteMetrics::close);
  }
}
