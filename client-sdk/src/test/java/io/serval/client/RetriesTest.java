package io.serval.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.grpc.GrpcService;
import com.linecorp.armeria.testing.junit5.server.ServerExtension;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Retries and the circuit breaker against a scripted v2 server that answers each model by its name: {@code
 * flaky3} fails its first 3 calls with 503 / UNAVAILABLE and then answers, {@code busy} answers its first call
 * 429 with {@code Retry-After: 1} (gRPC: RESOURCE_EXHAUSTED), {@code bad} always answers 400 / INVALID_ARGUMENT,
 * {@code down} always 503 / UNAVAILABLE. Every call is counted per transport and model.
 */
class RetriesTest {
  private static final Map<String, AtomicInteger> CALLS = new ConcurrentHashMap<>();

  @RegisterExtension
  static final ServerExtension SERVER = new ServerExtension() {
    @Override
    protected void configure(ServerBuilder sb) {
      sb.service("/v2/models/{model}/infer", (ctx, req) -> {
        String model = ctx.pathParam("model");
        int call = count(Transport.HTTP, model);
        return switch (model) {
          case "bad" -> error(HttpStatus.BAD_REQUEST, "input 'x' has shape [1,3] (expected: [-1,4])");
          case "down" -> error(HttpStatus.SERVICE_UNAVAILABLE, "model 'down' is not ready");
          case "busy" -> call == 1
              ? HttpResponse.of(ResponseHeaders.builder(HttpStatus.TOO_MANY_REQUESTS)
                  .contentType(MediaType.JSON).add(HttpHeaderNames.RETRY_AFTER, "1").build(),
                  com.linecorp.armeria.common.HttpData.ofUtf8("{\"error\":\"queue full; retry later\"}"))
              : answer(model);
          default -> call <= failures(model)
              ? error(HttpStatus.SERVICE_UNAVAILABLE, "model '" + model + "' is loading")
              : answer(model);
        };
      });
      sb.service(GrpcService.builder().addService(new GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase() {
        @Override
        public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> response) {
          String model = request.getModelName();
          int call = count(Transport.GRPC, model);
          Status failure = switch (model) {
            case "bad" -> Status.INVALID_ARGUMENT.withDescription("input 'x' has shape [1,3] (expected: [-1,4])");
            case "down" -> Status.UNAVAILABLE.withDescription("model 'down' is not ready");
            case "busy" -> call == 1 ? Status.RESOURCE_EXHAUSTED.withDescription("queue full; retry later") : null;
            default -> call <= failures(model) ? Status.UNAVAILABLE.withDescription("loading") : null;
          };
          if (failure != null) {
            response.onError(failure.asRuntimeException());
            return;
          }
          ByteBuffer y = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).flip();
          response.onNext(ModelInferResponse.newBuilder().setModelName(model).setModelVersion("1")
              .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder().setName("y").setDatatype("FP32")
                  .addShape(1).addShape(2))
              .addRawOutputContents(ByteString.copyFrom(y)).build());
          response.onCompleted();
        }
      }).build());
    }
  };

  @BeforeEach
  void resetCounts() {
    CALLS.clear();
  }

  private static int count(Transport transport, String model) {
    return CALLS.computeIfAbsent(transport + "/" + model, key -> new AtomicInteger()).incrementAndGet();
  }

  private static int calls(Transport transport, String model) {
    AtomicInteger calls = CALLS.get(transport + "/" + model);
    return calls == null ? 0 : calls.get();
  }

  /** {@code flakyN} fails its first N calls. */
  private static int failures(String model) {
    return model.startsWith("flaky") ? Integer.parseInt(model.substring("flaky".length())) : 0;
  }

  private static HttpResponse error(HttpStatus status, String message) {
    return HttpResponse.of(status, MediaType.JSON, "{\"error\":\"" + message + "\",\"request_id\":\"r-1\"}");
  }

  /** A JSON-only answer, as a server without the binary extension sends it. */
  private static HttpResponse answer(String model) {
    return HttpResponse.of(HttpStatus.OK, MediaType.JSON, "{\"model_name\":\"" + model + "\",\"model_version\":"
        + "\"1\",\"outputs\":[{\"name\":\"y\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1.0,2.0]}]}");
  }

  private static ServalClient client(Transport transport, int maxAttempts) {
    return ServalClient.builder()
        .transport(transport)
        .endpoint("127.0.0.1:" + SERVER.httpPort())
        .maxAttempts(maxAttempts)
        .retryBackoff(Duration.ofMillis(10), Duration.ofMillis(20))
        .build();
  }

  private static InferRequest request(String model) {
    return InferRequest.builder(model).input(InferTensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)).build();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aServerThatFailsThreeTimesThenAnswersIsRetriedUntilItAnswers(Transport transport) {
    try (ServalClient client = client(transport, 4)) {
      InferResult result = client.infer(request("flaky3"));
      assertThat(result.output("y").toFloatArray()).containsExactly(1, 2);
      assertThat(calls(transport, "flaky3")).isEqualTo(4);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void failuresBeyondTheAttemptsAreAnUnavailableError(Transport transport) {
    try (ServalClient client = client(transport, 3)) {
      assertThatThrownBy(() -> client.infer(request("flaky3")))
          .isInstanceOfSatisfying(ServerUnavailableException.class, error ->
              assertThat(error.serverMessage()).contains("loading"));
      assertThat(calls(transport, "flaky3")).isEqualTo(3);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aBadRequestIsNeverRetried(Transport transport) {
    try (ServalClient client = client(transport, 5)) {
      assertThatThrownBy(() -> client.infer(request("bad")))
          .isInstanceOfSatisfying(InvalidRequestException.class, error -> {
            assertThat(error.serverMessage()).isEqualTo("input 'x' has shape [1,3] (expected: [-1,4])");
            if (transport == Transport.HTTP) {
              assertThat(error.httpStatus()).isEqualTo(400);
              assertThat(error.requestId()).isEqualTo("r-1");
            } else {
              assertThat(error.grpcStatus()).isEqualTo("INVALID_ARGUMENT");
            }
          });
      assertThat(calls(transport, "bad")).isEqualTo(1);
    }
  }

  @Test
  void tooManyRequestsWaitsForRetryAfterThenRetries() {
    try (ServalClient client = client(Transport.HTTP, 3)) {
      long start = System.nanoTime();
      InferResult result = client.infer(request("busy"));
      Duration waited = Duration.ofNanos(System.nanoTime() - start);
      assertThat(result.output("y").toFloatArray()).containsExactly(1, 2);
      assertThat(calls(Transport.HTTP, "busy")).isEqualTo(2);
      // Retry-After: 1 asks for a second; the backoff alone would have waited 10 ms.
      assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMillis(950));
    }
  }

  @Test
  void resourceExhaustedOverGrpcIsRetriedWithBackoff() {
    try (ServalClient client = client(Transport.GRPC, 3)) {
      assertThat(client.infer(request("busy")).output("y").toFloatArray()).containsExactly(1, 2);
      assertThat(calls(Transport.GRPC, "busy")).isEqualTo(2);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void theCircuitBreakerOpensOnAFailingServerAndStopsSendingToIt(Transport transport) {
    try (ServalClient client = ServalClient.builder()
        .transport(transport)
        .endpoint("127.0.0.1:" + SERVER.httpPort())
        .maxAttempts(1)
        .circuitBreaker(0.5, 2, Duration.ofMinutes(1))
        .build()) {
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThatThrownBy(() -> client.infer(request("down"))).isInstanceOf(CircuitOpenException.class));
      int sent = calls(transport, "down");
      assertThatThrownBy(() -> client.infer(request("down"))).isInstanceOf(CircuitOpenException.class);
      assertThat(calls(transport, "down")).isEqualTo(sent);
    }
  }
}
