package io.serval.server.protocol.v2.grpc;

import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.unsafe.grpc.GrpcUnsafeBufferUtil;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoop;
import io.serval.core.ErrorKind;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.MemoryScope;
import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelConfigRequest;
import io.serval.protocol.v2.ModelConfigResponse;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import io.serval.protocol.v2.ModelMetadataRequest;
import io.serval.protocol.v2.ModelMetadataResponse;
import io.serval.protocol.v2.ModelReadyRequest;
import io.serval.protocol.v2.ModelReadyResponse;
import io.serval.protocol.v2.ModelStatisticsRequest;
import io.serval.protocol.v2.ModelStatisticsResponse;
import io.serval.protocol.v2.ModelStreamInferResponse;
import io.serval.protocol.v2.RepositoryIndexRequest;
import io.serval.protocol.v2.RepositoryIndexResponse;
import io.serval.protocol.v2.RepositoryModelLoadRequest;
import io.serval.protocol.v2.RepositoryModelLoadResponse;
import io.serval.protocol.v2.RepositoryModelUnloadRequest;
import io.serval.protocol.v2.RepositoryModelUnloadResponse;
import io.serval.protocol.v2.ServerLiveRequest;
import io.serval.protocol.v2.ServerLiveResponse;
import io.serval.protocol.v2.ServerMetadataRequest;
import io.serval.protocol.v2.ServerMetadataResponse;
import io.serval.protocol.v2.ServerReadyRequest;
import io.serval.protocol.v2.ServerReadyResponse;
import io.serval.server.ServerStatus;
import io.serval.server.admission.AdmissionControl;
import io.serval.server.inference.InferenceService;
import io.serval.server.protocol.InternalErrors;
import io.serval.server.protocol.v2.V2Messages;
import io.serval.server.repository.ModelVersion;
import io.serval.server.repository.RepositoryControl;
import io.serval.server.routing.RouteHints;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * {@code inference.GRPCInferenceService}. Methods Serval does not implement (shared memory, trace and log
 * settings) keep the generated base's UNIMPLEMENTED answer. Infer requests over 1 MiB are
 * decoded on Armeria's blocking executor, smaller ones where they arrive; every request runs on the model's
 * instance threads, never on an event loop.
 */
public final class V2GrpcService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  /** Requests up to this size are decoded on the event loop that received them. */
  private static final int INLINE_DECODE_BYTES = 1 << 20;

  private final InferenceService inference;
  private final RepositoryControl control;
  private final V2Messages messages;
  private final ServerStatus status;
  private final int maxStreamInflight;

  /** A service whose streams each have at most {@code maxStreamInflight} requests in flight. */
  public V2GrpcService(InferenceService inference, V2Messages messages, ServerStatus status,
      RepositoryControl control, int maxStreamInflight) {
    if (maxStreamInflight < 1) {
      throw new IllegalArgumentException("maxStreamInflight: " + maxStreamInflight + " (expected: >= 1)");
    }
    this.inference = inference;
    this.control = control;
    this.messages = messages;
    this.status = status;
    this.maxStreamInflight = maxStreamInflight;
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> response) {
    reply(response, () -> ServerLiveResponse.newBuilder().setLive(status.live()).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> response) {
    reply(response, () -> ServerReadyResponse.newBuilder().setReady(status.ready()).build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> response) {
    reply(response, () -> ModelReadyResponse.newBuilder()
        .setReady(messages.modelReady(request.getName(), request.getVersion()))
        .build());
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> response) {
    reply(response, messages::serverMetadata);
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> response) {
    reply(response, () -> messages.modelMetadata(request.getName(), request.getVersion()));
  }

  @Override
  public void modelConfig(ModelConfigRequest request, StreamObserver<ModelConfigResponse> response) {
    reply(response, () -> ModelConfigResponse.newBuilder()
        .setConfig(messages.modelConfig(request.getName(), request.getVersion()))
        .build());
  }

  @Override
  public void modelStatistics(ModelStatisticsRequest request, StreamObserver<ModelStatisticsResponse> response) {
    reply(response, () -> messages.statistics(request.getName(), request.getVersion()));
  }

  @Override
  public void repositoryIndex(RepositoryIndexRequest request, StreamObserver<RepositoryIndexResponse> response) {
    reply(response, () -> messages.repositoryIndex(request.getReady()));
  }

  @Override
  public void repositoryModelLoad(RepositoryModelLoadRequest request,
      StreamObserver<RepositoryModelLoadResponse> response) {
    ServiceRequestContext.current().blockingTaskExecutor().execute(() -> reply(response, () -> {
      RepositoryControl.checkParameters("load", List.copyOf(request.getParametersMap().keySet()));
      control.load(request.getModelName());
      return RepositoryModelLoadResponse.getDefaultInstance();
    }));
  }

  @Override
  public void repositoryModelUnload(RepositoryModelUnloadRequest request,
      StreamObserver<RepositoryModelUnloadResponse> response) {
    ServiceRequestContext.current().blockingTaskExecutor().execute(() -> reply(response, () -> {
      RepositoryControl.checkParameters("unload", List.copyOf(request.getParametersMap().keySet()));
      control.unload(request.getModelName());
      return RepositoryModelUnloadResponse.getDefaultInstance();
    }));
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
    ServiceRequestContext ctx = ServiceRequestContext.current();
    long deadline = deadline(ctx);
    // A cancelled call (client gone, deadline passed) takes its request out of the queue.
    CompletableFuture<Void> cancelled = new CompletableFuture<>();
    ((ServerCallStreamObserver<ModelInferResponse>) response).setOnCancelHandler(() -> cancelled.complete(null));
    start(ctx, request, deadline, cancelled, GrpcInferCodec::encode)
        .whenComplete((answer, error) -> {
          if (cancelled.isDone()) {
            return;
          }
          if (error != null) {
            response.onError(ServalException.of(error));
          } else {
            response.onNext(answer);
            response.onCompleted();
          }
        });
  }

  /**
   * Resolves, decodes and queues a request, and encodes its answer with {@code encoder}: a small one on the
   * calling event loop (a copy of a few hundred kilobytes costs less than a thread hop), a large one, whose raw
   * contents can be tens of megabytes to copy, on Armeria's blocking executor. When {@code cancelled} completes,
   * the request leaves the queue.
   */
  private <T> CompletableFuture<T> start(ServiceRequestContext ctx, ModelInferRequest request, long deadline,
      @Nullable CompletableFuture<Void> cancelled, Function<InferenceResult, T> encoder) {
    boolean inline = request.getSerializedSize() <= INLINE_DECODE_BYTES;
    Executor executor = inline ? ctx.eventLoop() : ctx.blockingTaskExecutor();
    Supplier<CompletableFuture<T>> start = () -> {
      try {
        // An unknown model or version is the first thing to report, before anything about the inputs.
        Servable version = inference.resolve(request.getModelName(), request.getModelVersion(),
            RouteHints.of(ctx.request().headers()::get));
        AdmissionControl.charge(ctx, request.getSerializedSize());
        MemoryScope memory = MemoryScope.open();
        InferenceRequest decoded;
        try {
          decoded = GrpcInferCodec.decode(request, deadline, memory);
        } catch (RuntimeException e) {
          memory.release();
          throw e;
        }
        CompletableFuture<T> answer = inference.infer(version, decoded, executor, result -> {
          RouteHints.reportVariant(ctx, result);
          return encoder.apply(result);
        });
        if (cancelled != null) {
          cancelled.thenRun(() -> answer.cancel(false));
        }
        return answer;
      } finally {
        releaseNetworkBuffer(ctx, request);
      }
    };
    if (!inline) {
      return CompletableFuture.supplyAsync(start, executor).thenCompose(Function.identity());
    }
    try {
      return start.get();
    } catch (ServalException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Each request on the stream is answered by one message on it, in the order they finish; a failed request
   * becomes an {@code error_message} and the stream goes on, as Triton's decoupled-free streaming does. At most
   * {@code maxStreamInflight} requests of one stream are in flight: past that the server stops reading the stream
   * (gRPC flow control) until an answer goes out, so one stream cannot queue unbounded work.
   */
  @Override
  public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> response) {
    ServiceRequestContext ctx = ServiceRequestContext.current();
    EventLoop eventLoop = ctx.eventLoop();
    ServerCallStreamObserver<ModelStreamInferResponse> call =
        (ServerCallStreamObserver<ModelStreamInferResponse>) response;
    call.disableAutoRequest();
    call.request(maxStreamInflight);
    // The stream's requests not answered yet: a client that goes away takes every one of them out of the queue.
    Set<CompletableFuture<?>> unanswered = ConcurrentHashMap.newKeySet();
    call.setOnCancelHandler(() -> unanswered.forEach(answer -> answer.cancel(false)));
    return new StreamObserver<>() {
      // Touched only on the event loop, where Armeria delivers requests and where answers are written.
      private int pending;
      private boolean halfClosed;

      @Override
      public void onNext(ModelInferRequest request) {
        pending++;
        long deadline = deadline(ctx);
        CompletableFuture<ModelStreamInferResponse> answer = start(ctx, request, deadline, null,
            result -> ModelStreamInferResponse.newBuilder().setInferResponse(GrpcInferCodec.encode(result)).build());
        unanswered.add(answer);
        answer.whenComplete((message, error) -> {
          unanswered.remove(answer);
          send(error == null ? message
              : ModelStreamInferResponse.newBuilder().setErrorMessage(errorMessage(ctx, error)).build());
        });
        if (call.isCancelled()) {
          answer.cancel(false);
        }
      }

      private void send(ModelStreamInferResponse message) {
        // Armeria sends headers on the event loop when the first message comes from another thread; writing
        // every answer from the event loop keeps headers first and answers in completion order.
        eventLoop.execute(() -> {
          if (call.isCancelled()) {
            return;
          }
          response.onNext(message);
          pending--;
          if (halfClosed) {
            if (pending == 0) {
              response.onCompleted();
            }
          } else {
            call.request(1);
          }
        });
      }

      @Override
      public void onError(Throwable t) {
        // The client went away: the cancel handler has taken its requests out of the queue.
      }

      @Override
      public void onCompleted() {
        halfClosed = true;
        if (pending == 0) {
          response.onCompleted();
        }
      }
    };
  }

  /**
   * Gives the request's network buffer back to Armeria. The service is built with {@code
   * unsafeWrapRequestBuffers}, so the bytes of {@code raw_input_contents} are the received buffer itself, not a
   * heap copy; decoding copies them once into the request's memory, and then they are released here, on the event
   * loop that owns the buffer registry of the call.
   */
  private static void releaseNetworkBuffer(ServiceRequestContext ctx, ModelInferRequest request) {
    if (ctx.eventLoop().inEventLoop()) {
      GrpcUnsafeBufferUtil.releaseBuffer(request, ctx);
    } else {
      ctx.eventLoop().execute(() -> GrpcUnsafeBufferUtil.releaseBuffer(request, ctx));
    }
  }

  /** The message of a failed stream request: the error's own, or the generic one for an internal error. */
  private static String errorMessage(ServiceRequestContext ctx, Throwable error) {
    ServalException failure = ServalException.of(error);
    if (failure.kind() == ErrorKind.INTERNAL) {
      return InternalErrors.report(ctx.id().text(), "ModelStreamInfer", failure);
    }
    return failure.getMessage();
  }

  private static long deadline(ServiceRequestContext ctx) {
    return GrpcInferCodec.deadline(ctx.request().headers().get("grpc-timeout"));
  }

  /** Answers with {@code answer}'s message, or its error, which {@link GrpcErrors} turns into a status. */
  private static <T> void reply(StreamObserver<T> response, Supplier<T> answer) {
    T message;
    try {
      message = answer.get();
    } catch (RuntimeException e) {
      response.onError(e);
      return;
    }
    response.onNext(message);
    response.onCompleted();
  }
}
