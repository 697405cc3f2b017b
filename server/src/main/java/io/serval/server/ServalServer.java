package io.serval.server;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ShuttingDownException;
import com.linecorp.armeria.common.grpc.GrpcSerializationFormats;
import com.linecorp.armeria.common.logging.LogLevel;
import com.linecorp.armeria.common.logging.LogWriter;
import com.linecorp.armeria.common.metric.MeterIdPrefixFunction;
import com.linecorp.armeria.server.HttpResponseException;
import com.linecorp.armeria.server.HttpStatusException;
import com.linecorp.armeria.server.Route;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.docs.DocService;
import com.linecorp.armeria.server.encoding.EncodingService;
import com.linecorp.armeria.server.grpc.GrpcHealthCheckService;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.grpc.GrpcServiceBuilder;
import com.linecorp.armeria.server.logging.LoggingService;
import com.linecorp.armeria.server.metric.MetricCollectingService;
import io.grpc.BindableService;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.serval.core.MemoryScope;
import io.serval.core.ModelUnavailableException;
import io.serval.core.ServalException;
import io.serval.server.admission.AdmissionControl;
import io.serval.server.cache.ResponseCache;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import io.serval.server.engines.EngineRegistry;
import io.serval.server.inference.InferenceService;
import io.serval.server.inference.ModelServables;
import io.serval.server.inference.ServedPipelines;
import io.serval.server.protocol.InternalErrors;
import io.serval.server.protocol.rest.ManagementRestService;
import io.serval.server.protocol.rest.PipelineRestService;
import io.serval.server.protocol.v2.V2Messages;
import io.serval.server.protocol.v2.grpc.GrpcErrors;
import io.serval.server.protocol.v2.grpc.V2GrpcService;
import io.serval.server.protocol.v2.http.HttpErrors;
import io.serval.server.protocol.v2.http.V2HttpService;
import io.serval.server.repository.ModelRepository;
import io.serval.server.repository.RepositoryControl;
import io.serval.server.routing.ServedRoutes;
import io.serval.server.repository.ModelVersion;
import io.serval.server.security.ServalSecurity;
import io.serval.server.warmup.Warmup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Serval: the engines, the model repository and one Armeria server whose ports (HTTP 8000, gRPC
 * 8001, metrics 8002 by default) each serve every protocol: v2 HTTP/REST, v2 gRPC with {@code
 * grpc.health.v1.Health}, {@code /metrics} (Prometheus) and {@code /docs} (a browsable API console).
 *
 * <pre>{@code
 * try (ServalServer server = ServalServer.start(ServerConfig.load(System.getenv(), List.of()))) {
 *   server.awaitStop();
 * }
 * }</pre>
 */
public final class ServalServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServalServer.class);
  private final ServerConfig config;
  private final EngineRegistry engines;
  private final ModelRepository repository;
  private final RepositoryControl control;
  private final ServedPipelines pipelines;
  private final ServedRoutes routes;
  private final ServerStatus status;
  private final Server server;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final List<Integer> ports;

  private ServalServer(
      ServerConfig config, EngineRegistry engines, ModelRepository repository, RepositoryControl control,
      ServedPipelines pipelines, ServedRoutes routes, ServerStatus status, Server server, List<Integer> ports) {
    this.routes = routes;
    this.ports = ports;
    this.config = config;
    this.engines = engines;
    this.repository = repository;
    this.control = control;
    this.pipelines = pipelines;
    this.status = status;
    this.server = server;
  }

  /**
   * Loads the models and starts serving.
   *
   * @throws ConfigException when a repository folder is missing (broken models are reported, not thrown)
   */
  public static ServalServer start(ServerConfig config) throws ConfigException {
    ServalSecurity security = ServalSecurity.of(config);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);

    EngineRegistry engines = EngineRegistry.create(config);
    ModelRepository repository;
    try {
      ServerConfig.Repository watching = config.repository();
      repository = ModelRepository.load(config.modelRepositories(), engines, registry, new ModelRepository.Settings(
          watching.settleMillis(), watching.readyFile(), config.shutdownTimeoutSeconds() * 1000L,
          watching.warmupRequests()));
    } catch (ConfigException e) {
      engines.close();
      throw e;
    }
    ServerStatus status = new ServerStatus(repository);
    ResponseCache cache = ResponseCache.ofMaxBytes(config.responseCacheBytes());
    cache.bindTo(registry);
    InternalErrors.bindTo(registry);
    Gauge.builder("serval.tensor.memory", MemoryScope::liveBytes)
        .description("Bytes of request tensor memory not yet released")
        .baseUnit("bytes")
        .register(registry);
    ModelServables models = new ModelServables(repository, cache, config.maxRequestElements());
    ServedPipelines pipelines = ServedPipelines.load(repository.pipelineFolders(), models::resolve, registry);
    InferenceService inference = new InferenceService(models, pipelines);
    ServedRoutes routes = ServedRoutes.load(repository.routeFolders(), inference::resolveTarget, registry);
    inference.serve(routes);
    repository.onRetired(version -> cache.invalidate(version.modelName(), version.generation()));
    repository.onChange(() -> {
      pipelines.reload(repository.pipelineFolders());
      routes.reload(repository.routeFolders());
      status.repositoryChanged();
    });
    RepositoryControl control = RepositoryControl.start(config.modelControlMode(), repository,
        config.modelRepositories(), config.repository());
    AdmissionControl admission =
        AdmissionControl.of(config.inflight().requests(), config.inflight().bytes(), registry);
    V2Messages messages = new V2Messages(repository, pipelines, routes, version());

    ServerBuilder sb = Server.builder()
        .meterRegistry(registry)
        .maxRequestLength(config.maxRequestBytes())
        // No server-side cut-off: a request lives until it is answered or its own deadline passes.
        .requestTimeout(Duration.ZERO)
        // Armeria waits for in-flight requests only while the quiet period runs; the timeout bounds the drain.
        .gracefulShutdownTimeout(
            Duration.ofMillis(Math.min(500, config.shutdownTimeoutSeconds() * 1000L)),
            Duration.ofSeconds(config.shutdownTimeoutSeconds()))
        .errorHandler(new JsonErrors());
    V2HttpService.of(inference, messages, status, control, config.maxRequestBytes()).bindTo(sb);
    new PipelineRestService(inference, config.maxRequestBytes()).bindTo(sb);
    new ManagementRestService(repository, pipelines, routes, control, engines).bindTo(sb);
    // One budget for all prediction calls, taken before a body is read.
    for (String infer : new String[] {"glob:/v2/models/*/infer", "glob:/v2/models/*/versions/*/infer",
        "glob:/v1/pipelines/*",
        "/inference.GRPCInferenceService/ModelInfer", "/inference.GRPCInferenceService/ModelStreamInfer"}) {
      sb.decorator(infer, admission);
    }
    // The ports (TLS or not), the management listener and access control: added after admission control and
    // before the logging decorators, so it runs before the first and inside the others (later decorators wrap).
    security.configure(sb);
    bindGrpc(sb, new V2GrpcService(inference, messages, status, control, config.inflight().perStream()),
        GrpcHealthCheckService.builder().checkers(status.healthChecker()).build(), config.maxRequestBytes());
    sb.service("/metrics", (ctx, req) -> HttpResponse.of(
        HttpStatus.OK, MediaType.parse("text/plain; version=0.0.4; charset=utf-8"), registry.scrape()));
    sb.serviceUnder("/docs", DocService.builder().build());
    sb.decorator(EncodingService.builder()
        .encodableContentTypes(type -> type.is(MediaType.ANY_TEXT_TYPE) || type.subtype().endsWith("json")
            || type.is(MediaType.OCTET_STREAM))
        .minBytesToForceChunkedEncoding(1)
        .newDecorator());
    sb.decorator(MetricCollectingService.newDecorator(MeterIdPrefixFunction.ofDefault("serval.http")));
    // Every request and response at DEBUG, only when the server logs at DEBUG: the decorator's work per request
    // (a log writer and listeners on every request log) is not paid otherwise.
    if (LoggerFactory.getLogger(LoggingService.class).isDebugEnabled()) {
      sb.decorator(LoggingService.builder()
          .logWriter(LogWriter.builder()
              .requestLogLevel(LogLevel.DEBUG)
              .successfulResponseLogLevel(LogLevel.DEBUG)
              .failureResponseLogLevel(LogLevel.DEBUG)
              .build())
          .newDecorator());
    }

    Server server = sb.build();
    try {
      server.start().join();
    } catch (RuntimeException e) {
      control.close();
      routes.close();
      repository.close();
      pipelines.close();
      engines.close();
      throw e;
    }
    List<Integer> ports = new ArrayList<>(servingPorts(server, config));
    ports.add(security.managementPort(server));
    warmUp(config, repository, security, server, ports.get(0));
    status.started();
    log.info("Serval {} serving {} model(s) and {} pipeline(s) on ports {} (http), {} (grpc), {} (metrics), {}"
        + " (management); ready: {}", version(), repository.models().size(), pipelines.all().size(), ports.get(0),
        ports.get(1), ports.get(2), ports.get(3), status.ready());
    return new ServalServer(config, engines, repository, control, pipelines, routes, status, server,
        List.copyOf(ports));
  }

  /** Drives the request path through the front ends until it is compiled, before the server reports ready. */
  private static void warmUp(ServerConfig config, ModelRepository repository, ServalSecurity security,
      Server server, int port) {
    List<ModelVersion> versions = repository.models().stream().flatMap(m -> m.readyVersions().stream()).toList();
    try {
      Warmup.Outcome outcome = Warmup.of(config.warmup())
          .run(versions, port, security.issueWarmupToken(), security.tls(),
              server.config().workerGroup());
      if (outcome.sent() > 0) {
        log.info("Warm-up: {} requests into {} model version(s) in {} ms ({})", outcome.sent(), versions.size(),
            outcome.millis(), outcome.byFrontEnd());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      security.revokeWarmupToken();
    }
  }

  /**
   * The bound HTTP, gRPC and metrics ports: the configured ones, with each 0 replaced by a port the system chose
   * for it. Every one of them serves every protocol, so which free port stands for which role does not matter.
   */
  private static List<Integer> servingPorts(Server server, ServerConfig config) {
    List<Integer> chosen = new ArrayList<>();
    for (InetSocketAddress address : server.activePorts().keySet()) {
      int port = address.getPort();
      if (address.getAddress().isAnyLocalAddress() && port != config.httpPort() && port != config.grpcPort()
          && port != config.metricsPort()) {
        chosen.add(port);
      }
    }
    List<Integer> ports = new ArrayList<>();
    for (int configured : new int[] {config.httpPort(), config.grpcPort(), config.metricsPort()}) {
      ports.add(configured != 0 || chosen.isEmpty() ? configured : chosen.remove(0));
    }
    return List.copyOf(ports);
  }

  /**
   * Binds the gRPC services. Raw tensor bytes stay in the network buffer until they are decoded into request
   * memory ({@code unsafeWrapRequestBuffers}: no heap copy per request, which kept a flood of large requests 0.8 GB
   * lower). Message size is left to the gRPC deframer (no HTTP-level limit on these routes), so an oversized message
   * is RESOURCE_EXHAUSTED rather than a bare HTTP 413. Unframed calls (protobuf or JSON bodies without gRPC
   * framing) are not served (415): with wrapped buffers, Armeria leaks the buffer of an unframed body that does not
   * parse. The service is bound as itself, not behind a lambda decorator, so Armeria's {@code serviceAdded} reaches
   * it (the health service depends on that).
   */
  private static void bindGrpc(ServerBuilder sb, BindableService inference, BindableService health,
      int maxRequestBytes) {
    GrpcService grpc = grpcServices(inference, health, maxRequestBytes).unsafeWrapRequestBuffers(true).build();
    for (Route route : grpc.routes()) {
      sb.route().addRoute(route).maxRequestLength(0).build(grpc);
    }
    sb.decorator("prefix:/inference.GRPCInferenceService/", GrpcErrors::checkTimeoutHeader);
  }

  private static GrpcServiceBuilder grpcServices(
      BindableService inference, BindableService health, int maxRequestBytes) {
    return GrpcService.builder()
        .supportedSerializationFormats(GrpcSerializationFormats.PROTO)
        .addService(inference)
        .addService(health)
        .exceptionHandler(GrpcErrors.handler(maxRequestBytes))
        .maxRequestMessageLength(maxRequestBytes)
        .maxResponseMessageLength(Integer.MAX_VALUE);
  }

  /** The version of this build, from the jar manifest. */
  public static String version() {
    String version = ServalServer.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }

  /**
   * The bound HTTP, gRPC, metrics and management ports, in that order: those configured, or those the system chose
   * for a 0. The first three each serve every protocol.
   */
  public List<Integer> ports() {
    return ports;
  }

  public ServerStatus status() {
    return status;
  }

  /** The loaded models. */
  public ModelRepository repository() {
    return repository;
  }

  /** Blocks until the server has stopped. */
  public void awaitStop() {
    server.whenClosed().join();
  }

  /**
   * Stops gracefully: reports not-ready, stops accepting, lets in-flight requests finish up to the configured
   * timeout, then releases the models and engines.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    log.info("Serval stopping: draining in-flight requests for up to {} s", config.shutdownTimeoutSeconds());
    status.stopping();
    control.close();
    // Drain first, while the server still writes answers: queued and running requests finish (or are stopped at
    // the deadline and answered), new ones get 503. Then Armeria's own graceful stop flushes the answers.
    repository.close(config.shutdownTimeoutSeconds() * 1000L);
    server.stop().join();
    routes.close();
    pipelines.close();
    engines.close();
    log.info("Serval stopped");
  }

  /** Renders errors Armeria raises itself (body too large, no such route) as v2 JSON error bodies. */
  private static final class JsonErrors implements ServerErrorHandler {
    @Override
    public @Nullable HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
      if (cause instanceof ServalException) {
        return HttpErrors.response(ctx, (ServalException) cause);
      }
      if (cause instanceof ContentTooLargeException) {
        return HttpErrors.response(ctx, HttpErrors.tooLarge(ctx));
      }
      if (cause instanceof HttpStatusException || cause instanceof HttpResponseException) {
        return null;
      }
      if (cause instanceof ShuttingDownException) {
        return HttpErrors.response(ctx, new ModelUnavailableException("the server is shutting down"));
      }
      // Anything else is a bug: contained here, reported once, answered with the request id only.
      return HttpErrors.response(HttpStatus.INTERNAL_SERVER_ERROR,
          InternalErrors.report(ctx.id().text(), ctx.method() + " " + ctx.path(), cause), ctx.id().text());
    }

    @Override
    public @Nullable AggregatedHttpResponse renderStatus(
        @Nullable ServiceRequestContext ctx,
        ServiceConfig config,
        @Nullable RequestHeaders headers,
        HttpStatus status,
        @Nullable String description,
        @Nullable Throwable cause) {
      String message;
      if (status == HttpStatus.REQUEST_ENTITY_TOO_LARGE) {
        message = "the request body is larger than " + config.maxRequestLength() + " bytes (limits.max_request_bytes)";
      } else if (status == HttpStatus.NOT_FOUND) {
        message = "no such endpoint: " + (headers == null ? "" : headers.method() + " " + headers.path());
      } else if (status == HttpStatus.METHOD_NOT_ALLOWED) {
        message = "method not allowed: " + (headers == null ? "" : headers.method() + " " + headers.path());
      } else {
        message = description != null ? description : status.reasonPhrase();
      }
      return AggregatedHttpResponse.of(status, MediaType.JSON,
          HttpErrors.body(message, ctx == null ? "" : ctx.id().text()));
    }
  }
}
