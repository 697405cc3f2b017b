package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.serval.core.MemoryScope;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelStreamInferResponse;
import io.serval.server.testengine.TestEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every request's tensor memory is freed when the request ends, whatever the ending: answered, refused by
 * validation, cancelled by its client, timed out in the queue, answered from the cache. Measured by {@link
 * MemoryScope#liveBytes()}, the bytes no request has released yet, which must come back to where it started.
 */
class MemoryOwnershipTest {
  @TempDir static Path repository;
  private static RunningServer server;
  private static WebClient http;
  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc;
  private long baseline;

  @BeforeAll
  static void start() throws Exception {
    TestEngine.model(repository, "echo", "max_batch_size: 8\ndynamic_batching: {}\n");
    TestEngine.model(repository, "cached", "max_batch_size: 8\nresponse_cache: {enable: true}\n");
    TestEngine.model(repository, "timed", "max_batch_size: 8\ndynamic_batching:\n"
        + "  default_queue_policy: {default_timeout_microseconds: 1000}\n");
    server = RunningServer.start(repository);
    http = WebClient.of(server.httpUri());
    grpc = GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
  }

  @AfterAll
  static void stop() {
    TestEngine.openGate();
    server.close();
  }

  @BeforeEach
  void resetEngine() {
    TestEngine.openGate();
    await().atMost(Duration.ofSeconds(10)).until(() -> MemoryScope.liveBytes() == 0);
    TestEngine.reset();
    // Every earlier test of this JVM has released what it allocated, or the wait above fails.
    baseline = MemoryScope.liveBytes();
  }

  @Test
  void answeredRequestsFreeTheirMemoryOverBothProtocols() throws Exception {
    for (int i = 0; i < 20; i++) {
      assertThat(TestEngine.post(http, "echo", i).get(10, TimeUnit.SECONDS).status()).isEqualTo(HttpStatus.OK);
      assertThat(grpc.modelInfer(TestEngine.grpcRequest("echo", i)).getRawOutputContents(0).size()).isEqualTo(16);
    }
    awaitBaseline();
  }

  @Test
  void refusedRequestsFreeTheirMemory() throws Exception {
    String wrongShape = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,5],\"data\":[1,2,3,4,5]}]}";
    AggregatedHttpResponse refused =
        http.execute(HttpRequest.of(HttpMethod.POST, "/v2/models/echo/infer", MediaType.JSON, wrongShape))
            .aggregate().get(10, TimeUnit.SECONDS);
    assertThat(refused.status()).isEqualTo(HttpStatus.BAD_REQUEST);
    awaitBaseline();
  }

  @Test
  void cancelledAndTimedOutRequestsFreeTheirMemory() throws Exception {
    CompletableFuture<AggregatedHttpResponse> holder = TestEngine.post(http, "timed", TestEngine.BLOCK);
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
    AggregatedHttpResponse timedOut = TestEngine.post(http, "timed", 1).get(10, TimeUnit.SECONDS);
    assertThat(timedOut.status()).isEqualTo(HttpStatus.GATEWAY_TIMEOUT);

    CompletableFuture<AggregatedHttpResponse> gone = WebClient.builder(server.httpUri())
        .responseTimeout(Duration.ofMillis(100)).build()
        .execute(HttpRequest.of(HttpMethod.POST, "/v2/models/echo/infer", MediaType.JSON,
            TestEngine.jsonRequest(TestEngine.BLOCK))).aggregate();
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<AggregatedHttpResponse> queued = WebClient.builder(server.httpUri())
        .responseTimeout(Duration.ofMillis(100)).build()
        .execute(HttpRequest.of(HttpMethod.POST, "/v2/models/echo/infer", MediaType.JSON,
            TestEngine.jsonRequest(3))).aggregate();
    await().atMost(Duration.ofSeconds(10)).until(() -> gone.isDone() && queued.isDone());

    TestEngine.openGate();
    assertThat(holder.get(10, TimeUnit.SECONDS).status()).isEqualTo(HttpStatus.OK);
    awaitBaseline();
  }

  @Test
  void aClientThatLeavesAStreamTakesItsQueuedRequestsOutAndFreesThem() throws Exception {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceStub async =
        GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceStub.class);
    CompletableFuture<Throwable> closed = new CompletableFuture<>();
    ClientCallStreamObserver<ModelInferRequest> stream =
        (ClientCallStreamObserver<ModelInferRequest>) async.modelStreamInfer(new StreamObserver<>() {
          @Override
          public void onNext(ModelStreamInferResponse value) {}

          @Override
          public void onError(Throwable t) {
            closed.complete(t);
          }

          @Override
          public void onCompleted() {
            closed.complete(null);
          }
        });
    stream.onNext(TestEngine.grpcRequest("echo", TestEngine.BLOCK));
    // Only once the instance runs the blocking request do the next two go: sent at once, the batcher could take
    // them into the blocking request's batch and nothing would queue.
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
    stream.onNext(TestEngine.grpcRequest("echo", 1));
    stream.onNext(TestEngine.grpcRequest("echo", 2));
    await().atMost(Duration.ofSeconds(10)).until(() -> server.server.repository().resolve("echo", "").pool().queued() == 2);

    stream.cancel("the client leaves", null);

    await().atMost(Duration.ofSeconds(10)).until(() -> server.server.repository().resolve("echo", "").pool().queued() == 0);
    TestEngine.openGate();
    closed.get(10, TimeUnit.SECONDS);
    awaitBaseline();
  }

  @Test
  void cachedAnswersHoldCompactCopiesNotRequestMemory() throws Exception {
    for (int i = 0; i < 2; i++) {
      assertThat(TestEngine.post(http, "cached", 5).get(10, TimeUnit.SECONDS).contentUtf8()).contains("[11.0,11.0,11.0,11.0]");
    }
    awaitBaseline();
  }

  private void awaitBaseline() {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(
        () -> assertThat(MemoryScope.liveBytes()).as("bytes of unreleased request memory").isEqualTo(baseline));
  }



}
