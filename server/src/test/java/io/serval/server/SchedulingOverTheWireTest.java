package io.serval.server;

import static io.serval.server.TestRepositories.INPUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.BlockingWebClient;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Back-pressure, deadlines, cancellation and the response cache against a real server. A wide request to the
 * real classifier (8 x 3 x 48 x 16000, about a second) keeps the only instance busy while the others
 * queue behind it.
 */
class SchedulingOverTheWireTest {
  private static final String WIDE_CONFIG = "max_batch_size: 8\ninputs:\n  - {name: x, datatype: FP32, dims: [3, 48, -1]}\n"
      + "outputs:\n  - {name: softmax_0.tmp_0, datatype: FP32, dims: [2]}\ndynamic_batching:\n";
  private static final int SLOW_WIDTH = 16000;
  private static final int SLOW_ROWS = 8;

  @TempDir static Path repository;
  private static RunningServer server;
  private static BlockingWebClient http;
  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc;
  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub grpcFuture;

  @BeforeAll
  static void start() throws Exception {
    TestRepositories.onnxModel(repository, "bounded", WIDE_CONFIG + "  default_queue_policy: {max_queue_size: 1}\n", 1);
    TestRepositories.onnxModel(repository, "unbounded", WIDE_CONFIG + "  max_queue_delay_microseconds: 0\n", 1);
    TestRepositories.onnxModel(repository, "cached", "response_cache: {enable: true}\nversion_policy: {all: true}\n", 1, 2);
    server = RunningServer.start(repository, "--limits.max_request_bytes=" + (256 << 20));
    http = WebClient.builder(server.httpUri()).maxResponseLength(0).build().blocking();
    grpc = GrpcClients.builder(server.grpcUri()).maxRequestMessageLength(-1).maxResponseMessageLength(-1)
        .build(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
    grpcFuture = GrpcClients.builder(server.grpcUri()).maxRequestMessageLength(-1).maxResponseMessageLength(-1)
        .build(GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub.class);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void rejectsAtOnceWhenTheQueueIsFull() throws Exception {
    ListenableFuture<ModelInferResponse> running = occupy("bounded");
    ListenableFuture<ModelInferResponse> queued = grpcFuture.modelInfer(request("bounded", 1, 192).build());
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
        .until(() -> version("bounded").pool().queued() == 1);

    assertThatThrownBy(() -> grpc.modelInfer(request("bounded", 1, 192).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    AggregatedHttpResponse refused = http.execute(HttpRequest.of(HttpMethod.POST, "/v2/models/bounded/infer",
        MediaType.JSON, jsonRequest(1, 192, "")));

    assertThat(refused.status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
    assertThat(refused.headers().get("retry-after")).isEqualTo("1");
    assertThat(refused.contentUtf8()).contains("the queue is full (1 requests waiting, max_queue_size 1)");
    assertThat(running.get(30, TimeUnit.SECONDS).getOutputs(0).getShapeList()).containsExactly(8L, 2L);
    assertThat(queued.get(30, TimeUnit.SECONDS).getOutputs(0).getShapeList()).containsExactly(1L, 2L);
  }

  @Test
  void answersDeadlineExceededAndNeverRunsARequestWhoseTimeoutPassesInTheQueue() throws Exception {
    long rowsBefore = statistics("unbounded").inferenceCount();
    ListenableFuture<ModelInferResponse> running = occupy("unbounded");

    AggregatedHttpResponse late = http.execute(HttpRequest.of(HttpMethod.POST, "/v2/models/unbounded/infer",
        MediaType.JSON, jsonRequest(2, 192, ",\"parameters\":{\"timeout\":1000}")));
    assertThatThrownBy(() -> grpc.withDeadlineAfter(100, TimeUnit.MILLISECONDS)
            .modelInfer(request("unbounded", 3, 192).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));

    assertThat(late.status()).isEqualTo(HttpStatus.GATEWAY_TIMEOUT);
    assertThat(late.contentUtf8()).contains("past its timeout, and was not run");
    running.get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> statistics("unbounded").pending() == 0);
    assertThat(statistics("unbounded").inferenceCount() - rowsBefore).as("only the wide request ran").isEqualTo(8);
  }

  @Test
  void cancelledRequestLeavesTheQueueAndNeverRuns() throws Exception {
    long rowsBefore = statistics("unbounded").inferenceCount();
    ListenableFuture<ModelInferResponse> running = occupy("unbounded");
    ListenableFuture<ModelInferResponse> abandoned = grpcFuture.modelInfer(request("unbounded", 2, 192).build());
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
        .until(() -> version("unbounded").pool().queued() == 1);

    abandoned.cancel(true);

    await().atMost(Duration.ofSeconds(10)).until(() -> version("unbounded").pool().queued() == 0);
    running.get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> statistics("unbounded").pending() == 0);
    assertThat(statistics("unbounded").inferenceCount() - rowsBefore).isEqualTo(8);
  }

  @Test
  void httpClientThatGivesUpTakesItsRequestOutOfTheQueue() throws Exception {
    long rowsBefore = statistics("unbounded").inferenceCount();
    ListenableFuture<ModelInferResponse> running = occupy("unbounded");
    BlockingWebClient impatient = WebClient.builder(server.httpUri())
        .responseTimeout(Duration.ofMillis(200)).build().blocking();

    assertThatThrownBy(() -> impatient.execute(HttpRequest.of(HttpMethod.POST, "/v2/models/unbounded/infer",
        MediaType.JSON, jsonRequest(2, 192, "")))).isInstanceOf(RuntimeException.class);

    await().atMost(Duration.ofSeconds(10)).until(() -> version("unbounded").pool().queued() == 0);
    running.get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> statistics("unbounded").pending() == 0);
    assertThat(statistics("unbounded").inferenceCount() - rowsBefore).as("only the wide request ran").isEqualTo(8);
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

  /** Starts a wide request that keeps the model's only instance busy, and waits until it runs. */
  private static ListenableFuture<ModelInferResponse> occupy(String model) {
    ListenableFuture<ModelInferResponse> running = grpcFuture.modelInfer(request(model, SLOW_ROWS, SLOW_WIDTH).build());
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
        .until(() -> statistics(model).pending() >= 1 && version(model).pool().queued() == 0);
    return running;
  }

  private static ModelVersion version(String model) {
    return server.server.repository().resolve(model, "");
  }

  private static ModelStatistics statistics(String model) {
    return version(model).metrics().statistics();
  }

  private static ModelInferRequest.Builder request(String model, int rows, int width) {
    return ModelInferRequest.newBuilder()
        .setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
            .setName(INPUT).setDatatype("FP32").addShape(rows).addShape(3).addShape(48).addShape(width))
        .addRawInputContents(ByteString.copyFrom(new byte[rows * 3 * 48 * width * 4]));
  }

  private static String jsonRequest(int rows, int width, String extra) {
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < rows * 3 * 48 * width; i++) {
      data.append(i == 0 ? "0" : ",0");
    }
    return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[" + rows + ",3,48," + width + "],\"data\":["
        + data + "]}]" + extra + "}";
  }

  private static float[] floats(int count, float value) {
    float[] values = new float[count];
    java.util.Arrays.fill(values, value);
    return values;
  }
}
