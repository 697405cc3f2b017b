package io.serval.server;

import static io.serval.server.TestRepositories.INPUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.ResponseTimeoutException;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import io.serval.server.metrics.ModelStatistics;
import io.serval.server.repository.ModelVersion;
import io.serval.server.testengine.TestEngine;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Back-pressure, deadlines, cancellation and the response cache against a real server. A request the {@link
 * TestEngine} blocks on keeps a model's only instance busy while the others queue behind it, until the test opens
 * the gate: no slow model, no sleeps.
 */
class SchedulingOverTheWireTest {
  @TempDir static Path repository;
  private static RunningServer server;
  private static WebClient http;
  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc;
  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub grpcFuture;

  @BeforeAll
  static void start() throws Exception {
    TestEngine.model(repository, "bounded", "max_batch_size: 8\ndynamic_batching:\n"
        + "  default_queue_policy: {max_queue_size: 1}\n");
    TestEngine.model(repository, "unbounded", "max_batch_size: 8\ndynamic_batching: {max_queue_delay_microseconds: 0}\n");
    TestRepositories.onnxModel(repository, "cached", "response_cache: {enable: true}\nversion_policy: {all: true}\n", 1, 2);
    server = RunningServer.start(repository);
    http = WebClient.of(server.httpUri());
    grpc = GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
    grpcFuture = GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub.class);
  }

  @AfterAll
  static void stop() {
    TestEngine.openGate();
    server.close();
  }

  @BeforeEach
  void closeTheGate() {
    TestEngine.reset();
  }

  @AfterEach
  void openTheGate() {
    TestEngine.openGate();
  }

  @Test
  void rejectsAtOnceWhenTheQueueIsFull() throws Exception {
    ListenableFuture<ModelInferResponse> running = occupy("bounded");
    ListenableFuture<ModelInferResponse> queued = grpcFuture.modelInfer(TestEngine.grpcRequest("bounded", 1));
    await().atMost(Duration.ofSeconds(10)).until(() -> version("bounded").pool().queued() == 1);

    assertThatThrownBy(() -> grpc.modelInfer(TestEngine.grpcRequest("bounded", 2)))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    AggregatedHttpResponse refused = TestEngine.post(http, "bounded", 2).get(10, TimeUnit.SECONDS);

    assertThat(refused.status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
    assertThat(refused.headers().get("retry-after")).isEqualTo("1");
    assertThat(refused.contentUtf8()).contains("the queue is full (1 requests waiting, max_queue_size 1)");
    TestEngine.openGate();
    assertThat(running.get(10, TimeUnit.SECONDS).getOutputs(0).getShapeList()).containsExactly(1L, 4L);
    assertThat(queued.get(10, TimeUnit.SECONDS).getRawOutputContents(0).asReadOnlyByteBuffer()
        .order(ByteOrder.LITTLE_ENDIAN).getFloat(0)).isEqualTo(3f);
  }

  @Test
  void answersDeadlineExceededAndNeverRunsARequestWhoseTimeoutPassesInTheQueue() throws Exception {
    long rowsBefore = statistics("unbounded").inferenceCount();
    ListenableFuture<ModelInferResponse> running = occupy("unbounded");

    AggregatedHttpResponse late = http.execute(HttpRequest.of(HttpMethod.POST, "/v2/models/unbounded/infer",
        MediaType.JSON, "{\"parameters\":{\"timeout\":1000}," + TestEngine.jsonRequest(2).substring(1)))
        .aggregate().get(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> grpc.withDeadlineAfter(100, TimeUnit.MILLISECONDS)
            .modelInfer(TestEngine.grpcRequest("unbounded", 3)))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));

    assertThat(late.status()).isEqualTo(HttpStatus.GATEWAY_TIMEOUT);
    assertThat(late.contentUtf8()).contains("past its timeout, and was not run");
    TestEngine.openGate();
    running.get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> statistics("unbounded").pending() == 0);
    assertThat(statistics("unbounded").inferenceCount() - rowsBefore).as("only the holder ran").isEqualTo(1);
  }

  @Test
  void cancelledRequestLeavesTheQueueAndNeverRuns() throws Exception {
    long rowsBefore = statistics("unbounded").inferenceCount();
    ListenableFuture<ModelInferResponse> running = occupy("unbounded");
    ListenableFuture<ModelInferResponse> abandoned = grpcFuture.modelInfer(TestEngine.grpcRequest("unbounded", 2));
    await().atMost(Duration.ofSeconds(10)).until(() -> version("unbounded").pool().queued() == 1);

    abandoned.cancel(true);

    await().atMost(Duration.ofSeconds(10)).until(() -> version("unbounded").pool().queued() == 0);
    TestEngine.openGate();
    running.get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> statistics("unbounded").pending() == 0);
    assertThat(statistics("unbounded").inferenceCount() - rowsBefore).isEqualTo(1);
  }

  @Test
  void httpClientThatGivesUpTakesItsRequestOutOfTheQueue() throws Exception {
    long rowsBefore = statistics("unbounded").inferenceCount();
    ListenableFuture<ModelInferResponse> running = occupy("unbounded");
    WebClient impatient = WebClient.builder(server.httpUri()).responseTimeout(Duration.ofMillis(200)).build();

    assertThatThrownBy(() -> TestEngine.post(impatient, "unbounded", 2).get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(ResponseTimeoutException.class);

    await().atMost(Duration.ofSeconds(10)).until(() -> version("unbounded").pool().queued() == 0);
    TestEngine.openGate();
    running.get(10, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> statistics("unbounded").pending() == 0);
    assertThat(statistics("unbounded").inferenceCount() - rowsBefore).as("only the holder ran").isEqualTo(1);
  }

  @Test
  void answersARepeatedRequestFromTheCacheWithIdenticalBytesAndNeverAcrossVersions() {
    ModelInferRequest first = request("cached", 1, 192).setModelVersion("1").build();
    ModelInferRequest other = request("cached", 1, 192).setModelVersion("1")
        .setRawInputContents(0, ByteString.copyFrom(TestRepositories.littleEndian(floats(3 * 48 * 192, 0.5f)))).build();

    ModelInferResponse miss = grpc.modelInfer(first);
    ModelInferResponse hit = grpc.modelInfer(first);
    grpc.modelInfer(other);
    grpc.modelInfer(first.toBuilder().setModelVersion("2").build());

    assertThat(hit.getRawOutputContents(0)).isEqualTo(miss.getRawOutputContents(0));
    ModelStatistics v1 = server.server.repository().resolve("cached", "1").metrics().statistics();
    assertThat(v1.cacheHit().count()).isEqualTo(1);
    assertThat(v1.cacheMiss().count()).isEqualTo(2);
    assertThat(v1.executionCount()).isEqualTo(2);
    assertThat(v1.success().count()).isEqualTo(3);
    ModelStatistics v2 = server.server.repository().resolve("cached", "2").metrics().statistics();
    assertThat(v2.cacheHit().count()).isZero();
    assertThat(v2.cacheMiss().count()).isEqualTo(1);
  }

  /** Sends a request the test engine holds until the gate opens, and waits until it runs. */
  private static ListenableFuture<ModelInferResponse> occupy(String model) throws InterruptedException {
    ListenableFuture<ModelInferResponse> running = grpcFuture.modelInfer(TestEngine.grpcRequest(model, TestEngine.BLOCK));
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).as("the instance is held").isTrue();
    return running;
  }

  private static ModelVersion version(String model) {
    return server.server.repository().resolve(model, "");
  }

  private static ModelStatistics statistics(String model) {
    return version(model).metrics().statistics();
  }

  /** A request of {@code rows} zero-filled 3 x 48 x {@code width} text lines for the real classifier. */
  private static ModelInferRequest.Builder request(String model, int rows, int width) {
    return ModelInferRequest.newBuilder()
        .setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
            .setName(INPUT).setDatatype("FP32").addShape(rows).addShape(3).addShape(48).addShape(width))
        .addRawInputContents(ByteString.copyFrom(new byte[rows * 3 * 48 * width * 4]));
  }

  private static float[] floats(int count, float value) {
    float[] values = new float[count];
    java.util.Arrays.fill(values, value);
    return values;
  }
}
