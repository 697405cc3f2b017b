package io.serval.server;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.common.logging.LogLevel;
import com.linecorp.armeria.common.logging.LogWriter;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.docs.DocService;
import com.linecorp.armeria.server.encoding.EncodingService;
import com.linecorp.armeria.server.grpc.GrpcHealthCheckService;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.server.logging.LoggingService;
import com.linecorp.armeria.server.metric.MetricCollectingService;
import com.linecorp.armeria.common.metric.MeterIdPrefixFunction;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.serval.engine.ServalException;
import io.serval.server.cache.ResponseCache;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import io.serval.server.engines.EngineRegistry;
import io.serval.server.inference.InferenceService;
import io.serval.server.protocol.v2.V2Messages;
import io.serval.server.protocol.v2.grpc.V2GrpcService;
import io.serval.server.protocol.v2.http.HttpErrors;
import io.serval.server.protocol.v2.http.V2HttpService;
import io.serval.server.repository.ModelRepository;
import java.time.Duration;
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
  private final ServerStatus status;
  private final Server server;

  private ServalServer(
      ServerConfig config, EngineRegistry engines, ModelRepository repository, ServerStatus status, Server server) {
    this.config = config;
    this.engines = engines;
    this.repository = repository;
    this.status = status;
    this.server = server;
  }

  /**
   * Loads the models and starts serving.
   *
   * @throws ConfigException when a repository folder is missing (broken models are reported, not thrown)
   */
  public static ServalServer start(ServerConfig config) throws ConfigException {
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
      repository = ModelRepository.load(config.modelRepositories(), engines, registry);
    } catch (ConfigException e) {
      engines.close();
      throw e;
    }
    ServerStatus status = new ServerStatus(repository);
    InferenceService inference = new InferenceService(
        repository, ResponseCache.ofMaxBytes(config.responseCacheBytes()), config.maxRequestElements());
    V2Messages messages = new V2Messages(repository, version());

    ServerBuilder sb = Server.builder()
        .http(config.httpPort())
        .http(config.grpcPort())
        .http(config.metricsPort())
        .meterRegistry(registry)
        .maxRequestLength(config.maxRequestBytes())
        // No server-side cut-off: a request lives until it is answered or its own deadline passes.
        .requestTimeout(Duration.ZERO)
        // Armeria waits for in-flight requests only while the quiet period runs; the timeout bounds the drain.
        .gracefulShutdownTimeout(
            Duration.ofMillis(Math.min(500, config.shutdownTimeoutSeconds() * 1000L)),
            Duration.ofSeconds(config.shutdownTimeoutSeconds()))
        .errorHandler(new JsonErrors());
    V2HttpService.of(inference, messages, status, config.maxRequestBytes()).bindTo(sb);
    sb.service(GrpcService.builder()
        .addService(new V2GrpcService(inference, messages, status))
        .addService(GrpcHealthCheckService.builder().checkers(status.healthChecker()).build())
        .maxRequestMessageLength(config.maxRequestBytes())
        .maxResponseMessageLength(Integer.MAX_VALUE)
        .enableUnframedRequests(true)
        .build());
    sb.service("/metrics", (ctx, req) -> HttpResponse.of(
        HttpStatus.OK, MediaType.parse("text/plain; version=0.0.4; charset=utf-8"), registry.scrape()));
    sb.serviceUnder("/docs", DocService.builder().build());
    sb.decorator(EncodingService.builder()
        .encodableContentTypes(type -> type.is(MediaType.ANY_TEXT_TYPE) || type.subtype().endsWith("json")
            || type.is(MediaType.OCTET_STREAM))
        .minBytesToForceChunkedEncoding(1)
        .newDecorator());
    sb.decorator(MetricCollectingService.newDecorator(MeterIdPrefixFunction.ofDefault("serval.http")));
    // Every request and response at DEBUG: seen with log_level DEBUG, silent otherwise.
    sb.decorator(LoggingService.builder()
        .logWriter(LogWriter.builder()
            .requestLogLevel(LogLevel.DEBUG)
            .successfulResponseLogLevel(LogLevel.DEBUG)
            .failureResponseLogLevel(LogLevel.DEBUG)
            .build())
        .newDecorator());

    Server server = sb.build();
    try {
      server.start().join();
    } catch (RuntimeException e) {
      repository.close();
      engines.close();
      throw e;
    }
    status.started();
    log.info("Serval {} serving {} model(s) on ports {} (http), {} (grpc), {} (metrics); ready: {}",
        version(), repository.models().size(), config.httpPort(), config.grpcPort(), config.metricsPort(),
        status.ready());
    return new ServalServer(config, engines, repository, status, server);
  }

  /** The version of this build, from the jar manifest. */
  public static String version() {
    String version = ServalServer.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
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
    log.info("Serval stopping: draining in-flight requests for up to {} s", config.shutdownTimeoutSeconds());
    status.stopping();
    server.stop().join();
    repository.close(config.shutdownTimeoutSeconds() * 1000L);
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
      return null;
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
      return AggregatedHttpResponse.of(status, MediaType.JSON_UTF_8,
          HttpErrors.body(message, ctx == null ? "" : ctx.id().text()));
    }
  }
}
