package io.serval.server.protocol.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.serval.core.InvalidInputException;
import io.serval.core.ServalException;
import io.serval.server.engines.EngineRegistry;
import io.serval.server.inference.ServedPipelines;
import io.serval.server.metrics.ModelStatistics;
import io.serval.server.protocol.v2.http.HttpErrors;
import io.serval.server.protocol.v2.http.RequestBodies;
import io.serval.server.repository.ModelEntry;
import io.serval.server.repository.ModelRepository;
import io.serval.server.repository.ModelVersion;
import io.serval.server.repository.RepositoryControl;
import io.serval.server.routing.Route;
import io.serval.server.routing.RouteDefinition;
import io.serval.server.routing.ServedRoutes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Serval's own management calls (an extension of the v2 protocol, served on the management listener with a
 * {@code manage} token, beside Triton's repository load and unload), and the console:
 *
 * <ul>
 *   <li>{@code GET /v1/models/{model}/labels}: the version labels and default version in force;
 *   <li>{@code PUT /v1/models/{model}/labels/{label}} {@code {"version": 2}}, {@code DELETE} the same path;
 *   <li>{@code PUT /v1/models/{model}/default_version} {@code {"version": "stable"}} (a label, a number, or
 *       {@code null} for the highest ready version);
 *   <li>{@code GET /v1/routes}, {@code PUT /v1/routes/{route}/weights} {@code {"a": 80, "b": 20}};
 *   <li>{@code GET /v1/console/state}: everything the console shows, with request rates and mean latencies over
 *       the time since the previous call (at least a second);
 *   <li>{@code GET /console}: the console page itself (no data in it; open on every port).
 * </ul>
 *
 * Changes made here last until the server stops (the files are never written). Every answer is JSON; a refused
 * change is a 4xx with {@code {"error": ...}} naming the problem.
 */
public final class ManagementRestService {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final long WINDOW_NANOS = 1_000_000_000L;

  private final ModelRepository repository;
  private final ServedPipelines pipelines;
  private final ServedRoutes routes;
  private final RepositoryControl control;
  private final EngineRegistry engines;
  /** Counts at the start of each console rate window, by series. */
  private final Map<String, Sample> samples = new HashMap<>();

  private record Sample(double count, double nanos, long at) {}

  public ManagementRestService(ModelRepository repository, ServedPipelines pipelines, ServedRoutes routes,
      RepositoryControl control, EngineRegistry engines) {
    this.engines = engines;
    this.repository = repository;
    this.pipelines = pipelines;
    this.routes = routes;
    this.control = control;
  }

  public void bindTo(ServerBuilder sb) {
    sb.route().get("/v1/models/{model}/labels").build((ctx, req) -> answer(ctx, req, body ->
        labels(repository.model(ctx.pathParam("model")))));
    sb.route().put("/v1/models/{model}/labels/{label}").build((ctx, req) -> answer(ctx, req, body ->
        labels(repository.setLabel(ctx.pathParam("model"), ctx.pathParam("label"), versionNumber(body)))));
    sb.route().delete("/v1/models/{model}/labels/{label}").build((ctx, req) -> answer(ctx, req, body ->
        labels(repository.setLabel(ctx.pathParam("model"), ctx.pathParam("label"), null))));
    sb.route().put("/v1/models/{model}/default_version").build((ctx, req) -> answer(ctx, req, body ->
        labels(repository.setDefaultVersion(ctx.pathParam("model"), versionText(body)))));
    sb.route().get("/v1/routes").build((ctx, req) -> answer(ctx, req, body -> {
      ArrayNode all = MAPPER.createArrayNode();
      routes.all().forEach(entry -> all.add(route(entry)));
      return all;
    }));
    sb.route().put("/v1/routes/{route}/weights").build((ctx, req) -> answer(ctx, req, body -> {
      routes.setWeights(ctx.pathParam("route"), weights(body));
      return route(routes.get(ctx.pathParam("route")));
    }));
    sb.route().get("/v1/engines").build((ctx, req) -> answer(ctx, req, body -> {
      ObjectNode all = MAPPER.createObjectNode();
      engines.describe().forEach(all::put);
      return all;
    }));
    sb.route().get("/v1/console/state").build((ctx, req) -> answer(ctx, req, body -> state()));
    byte[] page = consolePage();
    sb.route().get("/console").build((ctx, req) -> HttpResponse.of(HttpStatus.OK, MediaType.HTML_UTF_8, page));
  }

  private static byte[] consolePage() {
    try (InputStream in = ManagementRestService.class.getResourceAsStream("/io/serval/server/console/index.html")) {
      if (in == null) {
        throw new IllegalStateException("the console page is missing from the server's jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads the body (an object, or nothing), runs {@code action} off the event loop and answers its JSON. */
  private static HttpResponse answer(ServiceRequestContext ctx, HttpRequest req,
      Function<JsonNode, JsonNode> action) {
    return HttpResponse.of(req.aggregate().thenApplyAsync(aggregated -> {
      try {
        JsonNode body = RequestBodies.jsonObject(aggregated.contentUtf8(), "the request body");
        return HttpResponse.of(HttpStatus.OK, MediaType.JSON, action.apply(body).toString());
      } catch (ServalException e) {
        return HttpErrors.response(ctx, e);
      }
    }, ctx.blockingTaskExecutor()).exceptionally(failure -> HttpErrors.failure(ctx, failure)));
  }

  private static long versionNumber(JsonNode body) {
    JsonNode version = body.path("version");
    if (!version.isIntegralNumber() || version.longValue() < 0) {
      throw new InvalidInputException("'version' is " + (version.isMissingNode() ? "missing" : version.toString())
          + " (expected: {\"version\": N}, a version number)");
    }
    return version.longValue();
  }

  private static @Nullable String versionText(JsonNode body) {
    JsonNode version = body.path("version");
    if (version.isNull()) {
      return null;
    }
    if (version.isIntegralNumber() && version.longValue() >= 0) {
      return Long.toString(version.longValue());
    }
    if (version.isTextual() && !version.asText().isEmpty()) {
      return version.asText();
    }
    throw new InvalidInputException("'version' is " + (version.isMissingNode() ? "missing" : version.toString())
        + " (expected: {\"version\": N}, {\"version\": \"label\"}, or {\"version\": null} for the highest ready"
        + " version)");
  }

  private static Map<String, Integer> weights(JsonNode body) {
    Map<String, Integer> weights = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> fields = body.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      JsonNode weight = field.getValue();
      if (!weight.isIntegralNumber() || !weight.canConvertToInt()) {
        throw new InvalidInputException("weight of variant '" + field.getKey() + "' is " + weight
            + " (expected: an integer from 0 to 1000000)");
      }
      weights.put(field.getKey(), weight.intValue());
    }
    return weights;
  }

  private static ObjectNode labels(ModelEntry entry) {
    ObjectNode labels = MAPPER.createObjectNode();
    ObjectNode byLabel = labels.put("model", entry.name()).putObject("labels");
    entry.labels().forEach(byLabel::put);
    labels.put("default_version", entry.defaultVersion());
    return labels;
  }

  private ObjectNode route(ServedRoutes.Entry entry) {
    ObjectNode node = MAPPER.createObjectNode().put("name", entry.name()).put("reason", entry.reason());
    ArrayNode variants = node.putArray("variants");
    Route route = entry.route();
    if (route == null) {
      node.putNull("shadow");
      return node;
    }
    Map<String, Integer> weights = route.weights();
    for (RouteDefinition.Variant variant : route.definition().variants()) {
      variants.addObject()
          .put("name", variant.name())
          .put("target", target(variant.model(), variant.version()))
          .put("weight", weights.get(variant.name()))
          .put("requests_per_second", rate("route/" + entry.name() + "/" + variant.name(),
              route.metrics().requests(variant.name()), 0).perSecond());
    }
    RouteDefinition.Shadow shadow = route.definition().shadow();
    if (shadow == null) {
      node.putNull("shadow");
    } else {
      node.putObject("shadow").put("name", shadow.name()).put("target", target(shadow.model(), shadow.version()));
    }
    return node;
  }

  private static String target(String model, String version) {
    return "'" + model + "'" + (version.isEmpty() ? "" : " version " + version);
  }

  private synchronized ObjectNode state() {
    ObjectNode state = MAPPER.createObjectNode().put("control_mode", control.mode());
    ArrayNode models = state.putArray("models");
    for (ModelEntry entry : repository.models()) {
      ObjectNode model = models.addObject().put("name", entry.name()).put("reason", entry.reason())
          .put("default_version", entry.defaultVersion() == null ? "" : entry.defaultVersion());
      ArrayNode versions = model.putArray("versions");
      for (ModelVersion version : entry.versions().values()) {
        ObjectNode row = versions.addObject().put("version", version.versionString())
            .put("state", version.state().name()).put("reason", version.reason());
        ArrayNode labels = row.putArray("labels");
        entry.labels().forEach((label, number) -> {
          if (number == version.version()) {
            labels.add(label);
          }
        });
        Rate rate = version.isReady() ? rate(entry.name() + "/" + version.version(), version.metrics().statistics())
            : Rate.NONE;
        row.put("requests_per_second", rate.perSecond()).put("mean_latency_ms", rate.meanMillis());
      }
    }
    ArrayNode pipelineRows = state.putArray("pipelines");
    for (ServedPipelines.Entry entry : pipelines.all()) {
      Rate rate = entry.isReady() ? rate("pipeline/" + entry.name(), entry.served().metrics().statistics())
          : Rate.NONE;
      pipelineRows.addObject().put("name", entry.name()).put("state", entry.isReady() ? "READY" : "UNAVAILABLE")
          .put("reason", entry.reason()).put("requests_per_second", rate.perSecond())
          .put("mean_latency_ms", rate.meanMillis());
    }
    ArrayNode routeRows = state.putArray("routes");
    routes.all().forEach(entry -> routeRows.add(route(entry)));
    return state;
  }

  private record Rate(double perSecond, double meanMillis) {
    static final Rate NONE = new Rate(0, 0);
  }

  private Rate rate(String series, ModelStatistics statistics) {
    return rate(series, statistics.success().count() + statistics.fail().count(),
        statistics.success().nanos() + statistics.fail().nanos());
  }

  /**
   * The rate of {@code count} (and the mean of {@code nanos} per count) since the series' window began; a window
   * over a second old starts again from now.
   */
  private synchronized Rate rate(String series, double count, double nanos) {
    long now = System.nanoTime();
    Sample start = samples.get(series);
    if (start == null || count < start.count()) {
      samples.put(series, new Sample(count, nanos, now));
      return Rate.NONE;
    }
    double seconds = (now - start.at()) / 1e9;
    double requests = count - start.count();
    Rate rate = seconds <= 0 ? Rate.NONE
        : new Rate(requests / seconds, requests == 0 ? 0 : (nanos - start.nanos()) / requests / 1e6);
    if (now - start.at() >= WINDOW_NANOS) {
      samples.put(series, new Sample(count, nanos, now));
    }
    return rate;
  }
}
