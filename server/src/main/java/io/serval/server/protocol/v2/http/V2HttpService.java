package io.serval.server.protocol.v2.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Message;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.serval.core.InferenceRequest;
import io.serval.core.MemoryScope;
import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.server.ServerStatus;
import io.serval.server.admission.AdmissionControl;
import io.serval.server.inference.InferenceService;
import io.serval.server.protocol.v2.ProtoJson;
import io.serval.server.protocol.v2.V2Messages;
import io.serval.server.repository.RepositoryControl;
import io.serval.server.routing.RouteHints;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The KServe v2 HTTP endpoints. Every request body is read and decoded on Armeria's blocking executor and
 * inference runs on the model's instance threads, so no event loop does either.
 *
 * <pre>{@code
 * V2HttpService.of(inferenceService, messages, status, maxRequestBytes).bindTo(serverBuilder);
 * }</pre>
 */
public final class V2HttpService {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MODEL = "/v2/models/{model}";
  private static final String VERSION = "/v2/models/{model}/versions/{version}";

  private final InferenceService inference;
  private final RepositoryControl control;
  private final V2Messages messages;
  private final ServerStatus status;
  private final int maxRequestBytes;

  private V2HttpService(InferenceService inference, V2Messages messages, ServerStatus status,
      RepositoryControl control, int maxRequestBytes) {
    this.inference = inference;
    this.control = control;
    this.messages = messages;
    this.status = status;
    this.maxRequestBytes = maxRequestBytes;
  }

  public static V2HttpService of(InferenceService inference, V2Messages messages, ServerStatus status,
      RepositoryControl control, int maxRequestBytes) {
    return new V2HttpService(inference, messages, status, control, maxRequestBytes);
  }

  /** Binds every v2 route to {@code sb}. */
  public void bindTo(ServerBuilder sb) {
    sb.route().get("/v2/health/live").build((ctx, req) -> health("live", status.live()));
    sb.route().get("/v2/health/ready").build((ctx, req) -> health("ready", status.ready()));
    sb.route().get("/v2").build((ctx, req) -> json(messages.serverMetadata()));
    for (String base : new String[] {MODEL, VERSION}) {
      sb.route().get(base).build(answer(ctx -> json(messages.modelMetadata(model(ctx), version(ctx)))));
      sb.route().get(base + "/ready").build(answer(this::modelReady));
      sb.route().get(base + "/config").build(answer(ctx -> json(messages.modelConfig(model(ctx), version(ctx)))));
      sb.route().get(base + "/stats").build(answer(ctx -> json(messages.statistics(model(ctx), version(ctx)))));
      sb.route().post(base + "/infer").build(this::infer);
    }
    sb.route().get("/v2/models/stats").build(answer(ctx -> json(messages.statistics("", ""))));
    sb.route().post("/v2/repository/index").build(this::repositoryIndex);
    sb.route().post("/v2/repository/models/{model}/load").build((ctx, req) -> repositoryChange(ctx, req, "load"));
    sb.route().post("/v2/repository/models/{model}/unload").build((ctx, req) -> repositoryChange(ctx, req, "unload"));
  }

  private static String model(ServiceRequestContext ctx) {
    return ctx.pathParam("model");
  }

  private static String version(ServiceRequestContext ctx) {
    String version = ctx.pathParam("version");
    return version == null ? "" : version;
  }

  /**
   * A server health answer as the Open Inference Protocol's REST spec words it, {@code {"live": true}} or {@code
   * {"ready": true}}; Triton's status codes: 200 when healthy, 400 (with {@code false}) when not. Triton's clients
   * read only the status; KServe's parse the body.
   */
  private static HttpResponse health(String field, boolean healthy) {
    ObjectNode body = MAPPER.createObjectNode().put(field, healthy);
    return HttpResponse.of(healthy ? HttpStatus.OK : HttpStatus.BAD_REQUEST, MediaType.JSON, body.toString());
  }

  /**
   * A model's readiness: 200 {@code {"name": "m", "ready": true}}, or 400 with the same object saying {@code false}
   * plus the v2 error fields ({@code error}, {@code request_id}), so it reads both as the Open Inference Protocol's
   * model-ready answer and as a v2 error.
   */
  private HttpResponse modelReady(ServiceRequestContext ctx) {
    String model = model(ctx);
    String version = version(ctx);
    ObjectNode body = MAPPER.createObjectNode().put("name", model);
    if (messages.modelReady(model, version)) {
      return HttpResponse.of(HttpStatus.OK, MediaType.JSON, body.put("ready", true).toString());
    }
    body.put("ready", false)
        .put("error", "model '" + model + "'" + (version.isEmpty() ? "" : " version " + version) + " is not ready")
        .put("request_id", ctx.id().text());
    return HttpResponse.of(HttpStatus.BAD_REQUEST, MediaType.JSON, body.toString());
  }

  private HttpResponse infer(ServiceRequestContext ctx, HttpRequest req) {
    long deadline = TimeoutHeader.deadline(req.headers().get(TimeoutHeader.NAME));
    CompletableFuture<HttpResponse> response = req.aggregate()
        .thenComposeAsync(aggregated -> start(ctx, aggregated, deadline), ctx.blockingTaskExecutor())
        .exceptionally(error -> HttpErrors.failure(ctx, error));
    return HttpResponse.of(response);
  }

  /**
   * Resolves, decodes and queues a request; runs on the blocking executor, where its answer is also encoded
   * (Armeria's {@code armeria-common-blocking-tasks} threads), so neither an event loop nor an instance worker
   * spends time on JSON.
   */
  private CompletableFuture<HttpResponse> start(ServiceRequestContext ctx, AggregatedHttpRequest req, long deadline) {
    // An unknown model or version is the first thing to report, before anything about the body.
    Servable version = inference.resolve(model(ctx), version(ctx), RouteHints.of(req.headers()::get));
    AdmissionControl.charge(ctx, req.content().length());
    byte[] body = RequestBodies.decode(
        req.content().array(), req.headers().get(HttpHeaderNames.CONTENT_ENCODING), maxRequestBytes);
    MemoryScope memory = MemoryScope.open();
    InferenceRequest request;
    try {
      request = HttpInferDecoder.decode(
          version, body, req.headers().get(HttpInferDecoder.HEADER_LENGTH), deadline, memory);
    } catch (RuntimeException e) {
      memory.release();
      throw e;
    }
    CompletableFuture<HttpResponse> result =
        inference.infer(version, request, ctx.blockingTaskExecutor(), answer -> {
          RouteHints.reportVariant(ctx, answer);
          return HttpInferEncoder.encode(answer);
        });
    // A client that goes away takes its request out of the queue.
    ctx.whenRequestCancelling().thenRun(() -> result.cancel(false));
    return result;
  }

  /**
   * Triton's repository load or unload: an empty body or a JSON object whose {@code parameters} Serval does not
   * take (a config or files sent with the call are refused by name). The change runs off the event loop; the
   * answer, 200 with an empty body, comes once it is done.
   */
  private HttpResponse repositoryChange(ServiceRequestContext ctx, HttpRequest req, String action) {
    String name = model(ctx);
    return HttpResponse.of(req.aggregate().thenApplyAsync(aggregated -> {
      try {
        JsonNode body = RequestBodies.jsonObject(aggregated.contentUtf8(), "the repository " + action + " request");
        List<String> parameters = new ArrayList<>();
        body.path("parameters").fieldNames().forEachRemaining(parameters::add);
        RepositoryControl.checkParameters(action, parameters);
        if (action.equals("load")) {
          control.load(name);
        } else {
          control.unload(name);
        }
        return HttpResponse.of(HttpStatus.OK);
      } catch (ServalException e) {
        return HttpErrors.response(ctx, e);
      }
    }, ctx.blockingTaskExecutor()).exceptionally(failure -> HttpErrors.failure(ctx, failure)));
  }

  private HttpResponse repositoryIndex(ServiceRequestContext ctx, HttpRequest req) {
    return HttpResponse.of(req.aggregate().handle((aggregated, failure) -> {
      if (failure != null) {
        return HttpErrors.failure(ctx, failure);
      }
      try {
        boolean ready = RequestBodies.jsonObject(aggregated.contentUtf8(), "the repository index request")
            .path("ready").asBoolean(false);
        return HttpResponse.of(
            HttpStatus.OK, MediaType.JSON, ProtoJson.toJsonArray(messages.repositoryIndex(ready).getModelsList()));
      } catch (ServalException e) {
        return HttpErrors.response(ctx, e);
      }
    }));
  }

  private static HttpResponse json(Message message) {
    return HttpResponse.of(HttpStatus.OK, MediaType.JSON, ProtoJson.toJson(message));
  }

  /** A route whose answer may throw a {@link ServalException}, which becomes the v2 error response. */
  private static HttpService answer(Function<ServiceRequestContext, HttpResponse> handler) {
    return (ctx, req) -> {
      try {
        return handler.apply(ctx);
      } catch (ServalException e) {
        return HttpErrors.response(ctx, e);
      }
    };
  }
}
