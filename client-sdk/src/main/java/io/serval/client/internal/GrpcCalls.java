package io.serval.client.internal;

import com.linecorp.armeria.client.HttpClient;
import com.linecorp.armeria.client.circuitbreaker.CircuitBreakerClient;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.client.grpc.GrpcClientBuilder;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.auth.AuthToken;
import io.grpc.stub.StreamObserver;
import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferStream;
import io.serval.client.ServalClientException;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc.GRPCInferenceServiceStub;
import io.serval.protocol.v2.ModelConfig;
import io.serval.protocol.v2.ModelConfigRequest;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelMetadataRequest;
import io.serval.protocol.v2.ModelMetadataResponse;
import io.serval.protocol.v2.ModelReadyRequest;
import io.serval.protocol.v2.ModelStatisticsRequest;
import io.serval.protocol.v2.ModelStatisticsResponse;
import io.serval.protocol.v2.ModelStreamInferResponse;
import io.serval.protocol.v2.RepositoryIndexRequest;
import io.serval.protocol.v2.RepositoryIndexResponse;
import io.serval.protocol.v2.RepositoryModelLoadRequest;
import io.serval.protocol.v2.RepositoryModelUnloadRequest;
import io.serval.protocol.v2.ServerLiveRequest;
import io.serval.protocol.v2.ServerMetadataRequest;
import io.serval.protocol.v2.ServerMetadataResponse;
import io.serval.protocol.v2.ServerReadyRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The v2 gRPC service through Armeria's gRPC client and the protocol module's generated stubs. Unary calls carry
 * a deadline (the call's timeout, sent as {@code grpc-timeout}) and go through the retry and circuit breaker
 * decorators; the inference stream is one long call, never retried.
 */
public final class GrpcCalls implements ServerCalls {
  private final GRPCInferenceServiceStub unary;
  private final GRPCInferenceServiceStub streaming;
  private final GRPCInferenceServiceStub management;
  private final Duration timeout;

  public GrpcCalls(ClientSettings settings) {
    this.unary = stub(settings, settings.endpoints(), settings.token(), true);
    this.streaming = stub(settings, settings.endpoints(), settings.token(), false);
    EndpointGroup managementEndpoints = settings.management();
    this.management = managementEndpoints == null
        ? unary
        : stub(settings, managementEndpoints, settings.managementToken(), true);
    this.timeout = settings.timeout();
  }

  private static GRPCInferenceServiceStub stub(ClientSettings settings, EndpointGroup endpoints,
      @Nullable String token, boolean unaryCalls) {
    GrpcClientBuilder builder = GrpcClients.builder(settings.protocol(), endpoints)
        .factory(settings.factory())
        // Tensors may be large: no client-side cap on messages (the server has its own request limit).
        .maxResponseLength(0)
        .maxRequestMessageLength(-1)
        .maxResponseMessageLength(-1);
    Function<? super HttpClient, CircuitBreakerClient> breaker = Resilience.circuitBreaker(settings);
    if (breaker != null) {
      builder.decorator(breaker);
    }
    if (unaryCalls) {
      builder.responseTimeout(settings.timeout()).decorator(Resilience.grpcRetries(settings));
    } else {
      // A stream lives as long as its caller keeps sending.
      builder.responseTimeout(Duration.ZERO);
    }
    if (token != null) {
      builder.auth(AuthToken.ofOAuth2(token));
    }
    return builder.build(GRPCInferenceServiceStub.class);
  }

  @Override
  public CompletableFuture<Boolean> live() {
    return call(unary, timeout, GRPCInferenceServiceStub::serverLive, ServerLiveRequest.getDefaultInstance())
        .thenApply(response -> response.getLive());
  }

  @Override
  public CompletableFuture<Boolean> ready() {
    return call(unary, timeout, GRPCInferenceServiceStub::serverReady, ServerReadyRequest.getDefaultInstance())
        .thenApply(response -> response.getReady());
  }

  @Override
  public CompletableFuture<Boolean> modelReady(String model, String version) {
    return call(unary, timeout, GRPCInferenceServiceStub::modelReady,
        ModelReadyRequest.newBuilder().setName(model).setVersion(version).build())
        .thenApply(response -> response.getReady());
  }

  @Override
  public CompletableFuture<ServerMetadataResponse> serverMetadata() {
    return call(unary, timeout, GRPCInferenceServiceStub::serverMetadata, ServerMetadataRequest.getDefaultInstance());
  }

  @Override
  public CompletableFuture<ModelMetadataResponse> modelMetadata(String model, String version) {
    return call(unary, timeout, GRPCInferenceServiceStub::modelMetadata,
        ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build());
  }

  @Override
  public CompletableFuture<ModelConfig> modelConfig(String model, String version) {
    return call(unary, timeout, GRPCInferenceServiceStub::modelConfig,
        ModelConfigRequest.newBuilder().setName(model).setVersion(version).build())
        .thenApply(response -> response.getConfig());
  }

  @Override
  public CompletableFuture<ModelStatisticsResponse> modelStatistics(String model, String version) {
    return call(unary, timeout, GRPCInferenceServiceStub::modelStatistics,
        ModelStatisticsRequest.newBuilder().setName(model).setVersion(version).build());
  }

  @Override
  public CompletableFuture<InferResult> infer(InferRequest request) {
    Duration callTimeout = request.timeout() != null ? request.timeout() : timeout;
    return Futures.typed(call(unary, callTimeout, GRPCInferenceServiceStub::modelInfer,
        GrpcInferCodec.encode(request)), GrpcInferCodec::decode);
  }

  @Override
  public InferStream openStream(Consumer<InferResult> onResult, Consumer<ServalClientException> onError) {
    return new GrpcStream(streaming, onResult, onError);
  }

  @Override
  public CompletableFuture<List<RepositoryIndexResponse.ModelIndex>> repositoryIndex(boolean readyOnly) {
    return call(unary, timeout, GRPCInferenceServiceStub::repositoryIndex,
        RepositoryIndexRequest.newBuilder().setReady(readyOnly).build())
        .thenApply(RepositoryIndexResponse::getModelsList);
  }

  @Override
  public CompletableFuture<Void> loadModel(String model) {
    return call(management, timeout, GRPCInferenceServiceStub::repositoryModelLoad,
        RepositoryModelLoadRequest.newBuilder().setModelName(model).build())
        .thenApply(response -> null);
  }

  @Override
  public CompletableFuture<Void> unloadModel(String model) {
    return call(management, timeout, GRPCInferenceServiceStub::repositoryModelUnload,
        RepositoryModelUnloadRequest.newBuilder().setModelName(model).build())
        .thenApply(response -> null);
  }

  @Override
  public void close() {
    // The stubs hold no resources of their own: the factory and endpoint groups belong to the ServalClient.
  }

  /** A unary call with {@code deadline}, as a future failing with a typed error. */
  private static <Q, R> CompletableFuture<R> call(GRPCInferenceServiceStub stub, Duration deadline,
      Method<Q, R> method, Q request) {
    CompletableFuture<R> answer = new CompletableFuture<>();
    method.call(stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS), request,
        new StreamObserver<R>() {
          @Override
          public void onNext(R value) {
            answer.complete(value);
          }

          @Override
          public void onError(Throwable failure) {
            answer.completeExceptionally(Failures.of(failure));
          }

          @Override
          public void onCompleted() {
            if (!answer.isDone()) {
              answer.completeExceptionally(ServalClientException.unexpected("the call ended without an answer",
                  new IllegalStateException("no message before the end of the call")));
            }
          }
        });
    return answer;
  }

  /** A unary method of the async stub. */
  @FunctionalInterface
  private interface Method<Q, R> {
    void call(GRPCInferenceServiceStub stub, Q request, StreamObserver<R> response);
  }

  /** One {@code ModelStreamInfer} call. */
  private static final class GrpcStream implements InferStream {
    private final StreamObserver<ModelInferRequest> requests;
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private boolean completed;

    GrpcStream(GRPCInferenceServiceStub stub, Consumer<InferResult> onResult,
        Consumer<ServalClientException> onError) {
      this.requests = stub.modelStreamInfer(new StreamObserver<ModelStreamInferResponse>() {
        @Override
        public void onNext(ModelStreamInferResponse response) {
          if (!response.getErrorMessage().isEmpty()) {
            onError.accept(ServalClientException.ofStreamError(response.getErrorMessage()));
            return;
          }
          InferResult result;
          try {
            result = GrpcInferCodec.decode(response.getInferResponse());
          } catch (RuntimeException e) {
            onError.accept(ServalClientException.unexpected("an answer of the stream cannot be read: "
                + e.getMessage(), e));
            return;
          }
          onResult.accept(result);
        }

        @Override
        public void onError(Throwable failure) {
          done.completeExceptionally(Failures.of(failure));
        }

        @Override
        public void onCompleted() {
          done.complete(null);
        }
      });
    }

    @Override
    public synchronized void send(InferRequest request) {
      if (completed) {
        throw new IllegalStateException("the stream is complete (expected: send before complete() or close())");
      }
      requests.onNext(GrpcInferCodec.encode(request));
    }

    @Override
    public synchronized CompletableFuture<Void> complete() {
      if (!completed) {
        completed = true;
        requests.onCompleted();
      }
      return done;
    }

    @Override
    public void close() {
      Futures.await(complete());
    }
  }
}
