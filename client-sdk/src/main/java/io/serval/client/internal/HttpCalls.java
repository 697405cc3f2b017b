package io.serval.client.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.linecorp.armeria.client.RequestOptions;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.WebClientBuilder;
import com.linecorp.armeria.client.circuitbreaker.CircuitBreakerClient;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.auth.AuthToken;
import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferStream;
import io.serval.client.ServalClientException;
import io.serval.protocol.v2.ModelConfig;
import io.serval.protocol.v2.ModelMetadataResponse;
import io.serval.protocol.v2.ModelStatisticsResponse;
import io.serval.protocol.v2.RepositoryIndexResponse;
import io.serval.protocol.v2.ServerMetadataResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The v2 REST API over Armeria's {@link WebClient}: JSON for metadata, configuration, statistics and the
 * repository (read into the protocol's own messages, as the gRPC transport returns them), and the binary tensor
 * extension for inference ({@link HttpInferCodec}).
 */
public final class HttpCalls implements ServerCalls {
  /** The header Serval reads a call's remaining time from, in microseconds. */
  static final String TIMEOUT_HEADER = "serval-timeout-us";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

  private final WebClient client;
  private final WebClient management;
  private final Duration timeout;

  public HttpCalls(ClientSettings settings) {
    this.client = webClient(settings, settings.endpoints(), settings.token());
    EndpointGroup managementEndpoints = settings.management();
    this.management = managementEndpoints == null
        ? client
        : webClient(settings, managementEndpoints, settings.managementToken());
    this.timeout = settings.timeout();
  }

  /** A web client on {@code endpoints} with the settings' retries, circuit breaker, timeout and token. */
  static WebClient webClient(ClientSettings settings, EndpointGroup endpoints, @Nullable String token) {
    WebClientBuilder builder = WebClient.builder(settings.protocol(), endpoints)
        .factory(settings.factory())
        // Outputs may be large: no client-side cap on answers.
        .maxResponseLength(0)
        .responseTimeout(settings.timeout());
    Function<? super com.linecorp.armeria.client.HttpClient, CircuitBreakerClient> breaker =
        Resilience.circuitBreaker(settings);
    if (breaker != null) {
      builder.decorator(breaker);
    }
    // Added last, so outermost: each attempt goes through the breaker and picks its endpoint again.
    builder.decorator(Resilience.httpRetries(settings));
    if (token != null) {
      builder.auth(AuthToken.ofOAuth2(token));
    }
    return builder.build();
  }

  @Override
  public CompletableFuture<Boolean> live() {
    return health(() -> client.get("/v2/health/live"));
  }

  @Override
  public CompletableFuture<Boolean> ready() {
    return health(() -> client.get("/v2/health/ready"));
  }

  @Override
  public CompletableFuture<Boolean> modelReady(String model, String version) {
    return health(() -> client.get(Paths.model(model, version) + "/ready"));
  }

  @Override
  public CompletableFuture<ServerMetadataResponse> serverMetadata() {
    return getJson(client, "/v2", ServerMetadataResponse.newBuilder());
  }

  @Override
  public CompletableFuture<ModelMetadataResponse> modelMetadata(String model, String version) {
    return getJson(client, Paths.model(model, version), ModelMetadataResponse.newBuilder());
  }

  @Override
  public CompletableFuture<ModelConfig> modelConfig(String model, String version) {
    return Futures.typed(client.get(Paths.model(model, version) + "/config").aggregate(), response -> {
      ModelConfig.Builder config = ModelConfig.newBuilder();
      merge(configJson(success(response).contentUtf8()), config);
      return config.build();
    });
  }

  @Override
  public CompletableFuture<ModelStatisticsResponse> modelStatistics(String model, String version) {
    String path = model.isEmpty() ? "/v2/models/stats" : Paths.model(model, version) + "/stats";
    return getJson(client, path, ModelStatisticsResponse.newBuilder());
  }

  @Override
  public CompletableFuture<InferResult> infer(InferRequest request) {
    byte[] header = HttpInferCodec.header(request);
    Duration callTimeout = request.timeout() != null ? request.timeout() : timeout;
    RequestHeaders headers = RequestHeaders.builder(HttpMethod.POST, Paths.model(request.model(), request.version())
            + "/infer")
        .contentType(MediaType.OCTET_STREAM)
        .setInt(HttpInferCodec.HEADER_LENGTH, header.length)
        .set(TIMEOUT_HEADER, Long.toString(callTimeout.toNanos() / 1000))
        .build();
    HttpRequest http = HttpRequest.of(headers, HttpInferCodec.body(header, request));
    RequestOptions options = RequestOptions.builder().responseTimeout(callTimeout).build();
    return Futures.typed(client.execute(http, options).aggregate(), response -> {
      String length = success(response).headers().get(HttpInferCodec.HEADER_LENGTH);
      return HttpInferCodec.decode(response.content().array(), length == null ? -1 : Integer.parseInt(length));
    });
  }

  @Override
  public InferStream openStream(Consumer<InferResult> onResult, Consumer<ServalClientException> onError) {
    return new PerCallStream(this::infer, onResult, onError);
  }

  @Override
  public CompletableFuture<List<RepositoryIndexResponse.ModelIndex>> repositoryIndex(boolean readyOnly) {
    return Futures.typed(client.prepare().post("/v2/repository/index")
        .content(MediaType.JSON, "{\"ready\":" + readyOnly + "}").execute().aggregate(), response -> {
          RepositoryIndexResponse.Builder index = RepositoryIndexResponse.newBuilder();
          merge("{\"models\":" + success(response).contentUtf8() + "}", index);
          return index.build().getModelsList();
        });
  }

  @Override
  public CompletableFuture<Void> loadModel(String model) {
    return repositoryChange(model, "load");
  }

  @Override
  public CompletableFuture<Void> unloadModel(String model) {
    return repositoryChange(model, "unload");
  }

  private CompletableFuture<Void> repositoryChange(String model, String action) {
    return Futures.typed(management.prepare().post("/v2/repository/models/" + Paths.segment(model) + "/" + action)
        .content(MediaType.JSON, "{}").execute().aggregate(), response -> {
          success(response);
          return null;
        });
  }

  @Override
  public void close() {
    // The clients hold no resources of their own: the factory and endpoint groups belong to the ServalClient.
  }

  /** 200 is yes; 400 (Triton, Serval), 404 and 503 (other v2 servers) are no; anything else is an error. */
  private static CompletableFuture<Boolean> health(Supplier<com.linecorp.armeria.common.HttpResponse> call) {
    return Futures.typed(call.get().aggregate(), response -> {
      HttpStatus status = response.status();
      if (status.equals(HttpStatus.OK)) {
        return true;
      }
      if (status.equals(HttpStatus.BAD_REQUEST) || status.equals(HttpStatus.NOT_FOUND)
          || status.equals(HttpStatus.SERVICE_UNAVAILABLE)) {
        return false;
      }
      throw Failures.ofHttp(response);
    });
  }

  @SuppressWarnings("unchecked")
  private static <T extends Message> CompletableFuture<T> getJson(WebClient client, String path,
      Message.Builder builder) {
    return Futures.typed(client.get(path).aggregate(), response -> {
      merge(success(response).contentUtf8(), builder);
      return (T) builder.build();
    });
  }

  static AggregatedHttpResponse success(AggregatedHttpResponse response) {
    if (!response.status().isSuccess()) {
      throw Failures.ofHttp(response);
    }
    return response;
  }

  private static void merge(String json, Message.Builder builder) {
    try {
      PARSER.merge(json, builder);
    } catch (InvalidProtocolBufferException e) {
      throw ServalClientException.unexpected("the answer is not a " + builder.getDescriptorForType().getName()
          + ": " + e.getMessage(), e);
    }
  }

  /** Triton answers the configuration itself; a server may also wrap it as gRPC does, {@code {"config": ...}}. */
  private static String configJson(String json) {
    try {
      JsonNode root = MAPPER.readTree(json);
      return root.has("config") && !root.has("name") ? root.get("config").toString() : json;
    } catch (JsonProcessingException e) {
      throw ServalClientException.unexpected("the model configuration is not JSON: " + e.getMessage(), e);
    }
  }
}
