package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpRequestWriter;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelStreamInferResponse;
import io.serval.server.testengine.TestEngine;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server-wide in-flight budget and the per-stream bound, with the {@link TestEngine} holding requests in
 * flight: work over budget is refused at once (429 + Retry-After, RESOURCE_EXHAUSTED), accepted work is answered.
 */
class AdmissionTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path repository;
  private RunningServer server;

  @BeforeEach
  void models() {
    TestEngine.reset();
    TestEngine.model(repository, "echo", "max_batch_size: 8\n");
  }

  @AfterEach
  void stop() {
    TestEngine.openGate();
    if (server != null) {
      server.close();
    }
  }

  @Test
  void refusesRequestsPastTheInflightBudgetOverBothProtocolsAndAnswersTheAcceptedOnes() throws Exception {
    server = RunningServer.start(repository, "--limits.max_inflight_requests=2");
    WebClient http = WebClient.of(server.httpUri());
    CompletableFuture<AggregatedHttpResponse> running = TestEngine.post(http, "echo", TestEngine.BLOCK);
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<AggregatedHttpResponse> queued = TestEngine.post(http, "echo", 2);
    await().atMost(Duration.ofSeconds(10)).until(() -> server.server.repository().resolve("echo", "").pool().queued() == 1);

    AggregatedHttpResponse refused = TestEngine.post(http, "echo", 3).get(10, TimeUnit.SECONDS);
    assertThat(refused.status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
    assertThat(refused.headers().get(HttpHeaderNames.RETRY_AFTER)).isEqualTo("1");
    assertThat(MAPPER.readTree(refused.contentUtf8()).get("error").asText()).isEqualTo(
        "the server has 2 prediction requests in flight, its limit (limits.max_inflight_requests 2); retry later");
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc =
        GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
    assertThatThrownBy(() -> grpc.modelInfer(TestEngine.grpcRequest("echo", 4)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getStatus().getDescription()).contains("limits.max_inflight_requests 2");
        });

    TestEngine.openGate();
    assertThat(running.get(10, TimeUnit.SECONDS).contentUtf8()).contains("[-5.0,-5.0,-5.0,-5.0]");
    assertThat(queued.get(10, TimeUnit.SECONDS).contentUtf8()).contains("[5.0,5.0,5.0,5.0]");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(
        () -> assertThat(grpc.modelInfer(TestEngine.grpcRequest("echo", 1)).getRawOutputContents(0).size()).isEqualTo(16));
    assertThat(metrics()).contains("serval_admission_refused_total{budget=\"requests\"} 2.0");
  }

  @Test
  void refusesABodyLargerThanTheByteBudgetBeforeReadingIt() throws Exception {
    server = RunningServer.start(repository, "--limits.max_inflight_bytes=100");
    // Headers that announce 1,000 bytes and a body that never comes: the answer cannot wait for it.
    HttpRequestWriter unsent = HttpRequest.streaming(RequestHeaders.builder(HttpMethod.POST, "/v2/models/echo/infer")
        .contentType(MediaType.JSON).contentLength(1000).build());

    AggregatedHttpResponse refused = WebClient.of(server.httpUri()).execute(unsent).aggregate()
        .get(10, TimeUnit.SECONDS);

    assertThat(refused.status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
    assertThat(MAPPER.readTree(refused.contentUtf8()).get("error").asText()).isEqualTo("the server holds 0 bytes of"
        + " requests in flight and this one needs 1000 more (limits.max_inflight_bytes 100); retry later");
    unsent.abort();
    assertThat(metrics()).contains("serval_admission_refused_total{budget=\"bytes\"} 1.0");
  }

  @Test
  void chargesABodyOfUnannouncedLengthOnceItIsRead() throws Exception {
    server = RunningServer.start(repository, "--limits.max_inflight_bytes=50");
    HttpRequestWriter chunked = HttpRequest.streaming(RequestHeaders.builder(HttpMethod.POST, "/v2/models/echo/infer")
        .contentType(MediaType.JSON).build());
    chunked.write(HttpData.ofUtf8(TestEngine.jsonRequest(1)));
    chunked.close();

    AggregatedHttpResponse refused = WebClient.of(server.httpUri()).execute(chunked).aggregate()
        .get(10, TimeUnit.SECONDS);

    assertThat(refused.status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
    assertThat(MAPPER.readTree(refused.contentUtf8()).get("error").asText())
        .endsWith("more (limits.max_inflight_bytes 50); retry later");
  }

  @Test
  void aStreamHasAtMostItsBoundInFlightAndEveryRequestIsAnswered() throws Exception {
    server = RunningServer.start(repository, "--limits.max_stream_inflight=2");
    GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub =
        GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceStub.class);
    List<ModelStreamInferResponse> answers = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<ModelInferRequest> stream = stub.modelStreamInfer(new StreamObserver<>() {
      @Override
      public void onNext(ModelStreamInferResponse value) {
        answers.add(value);
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    stream.onNext(TestEngine.grpcRequest("echo", TestEngine.BLOCK));
    for (int i = 0; i < 5; i++) {
      stream.onNext(TestEngine.grpcRequest("echo", i));
    }
    stream.onCompleted();
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(10)).until(() -> server.server.repository().resolve("echo", "").pool().queued() == 1);
    // The other four wait in the stream, unread: none of them reaches the queue while two are in flight.
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
        .until(() -> server.server.repository().resolve("echo", "").pool().queued() == 1);

    TestEngine.openGate();
    done.get(10, TimeUnit.SECONDS);
    assertThat(answers).hasSize(6).allSatisfy(answer -> assertThat(answer.getErrorMessage()).isEmpty());
  }

  private String metrics() throws Exception {
    return WebClient.of("http://127.0.0.1:" + server.metricsPort).get("/metrics").aggregate()
        .get(10, TimeUnit.SECONDS).contentUtf8();
  }


}
