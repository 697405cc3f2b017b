package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import io.serval.server.testengine.TestEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Engines that throw, hang or outlast the drain, driven by the {@link TestEngine} through the data of each
 * request, against a real server: a failure stays with its request, a hung run is stopped, and shutdown keeps its
 * deadline and closes every instance.
 */
class FaultIsolationTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir Path repository;
  private RunningServer server;
  private WebClient http;

  @BeforeEach
  void start() throws Exception {
    TestEngine.reset();
    TestEngine.model(repository, "batched", "max_batch_size: 8\ndynamic_batching: {preferred_batch_sizes: [4]}\n");
    TestEngine.model(repository, "stopped", "max_batch_size: 8\nmax_run_time_ms: 200\n");
    TestEngine.model(repository, "hung", "max_batch_size: 8\n");
    TestEngine.model(repository, "other", "max_batch_size: 8\n");
    server = RunningServer.start(repository, "--shutdown_timeout_seconds=1");
    http = WebClient.of(server.httpUri());
  }

  @AfterEach
  void stop() {
    TestEngine.openGate();
    server.close();
  }

  @Test
  void anEngineThatThrowsFailsOnlyTheRequestThatBrokeIt() throws Exception {
    CompletableFuture<AggregatedHttpResponse> holder = TestEngine.post(http, "batched", TestEngine.BLOCK);
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).as("the instance is held").isTrue();
    List<CompletableFuture<AggregatedHttpResponse>> good = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      good.add(TestEngine.post(http, "batched", i));
    }
    CompletableFuture<AggregatedHttpResponse> poisoned = TestEngine.post(http, "batched", TestEngine.POISON);
    await().atMost(Duration.ofSeconds(10)).until(() -> server.server.repository().resolve("batched", "").pool().queued() == 4);
    TestEngine.openGate();

    AggregatedHttpResponse failure = poisoned.get(10, TimeUnit.SECONDS);
    assertThat(failure.status()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
    JsonNode error = MAPPER.readTree(failure.contentUtf8());
    assertThat(error.get("error").asText())
        .startsWith("internal error; the server log has the details under request id ")
        .doesNotContain("Exception", "java.", "poisoned");
    assertThat(error.get("error").asText()).endsWith(error.get("request_id").asText());
    for (int i = 0; i < good.size(); i++) {
      assertThat(outputs(good.get(i).get(10, TimeUnit.SECONDS))).as("request %d", i).containsExactly((float) (2 * i + 1), (float) (2 * i + 1), (float) (2 * i + 1), (float) (2 * i + 1));
    }
    assertThat(outputs(holder.get(10, TimeUnit.SECONDS))).containsExactly(-5f, -5f, -5f, -5f);
    assertThat(outputs(TestEngine.post(http, "batched", 7).get(10, TimeUnit.SECONDS))).as("still serving").containsExactly(15f, 15f, 15f, 15f);
  }

  @Test
  void aRunPastMaxRunTimeIsStoppedAndAnsweredWithADeadlineError() throws Exception {
    AggregatedHttpResponse stopped = TestEngine.post(http, "stopped", TestEngine.HANG).get(10, TimeUnit.SECONDS);

    assertThat(stopped.status()).isEqualTo(HttpStatus.GATEWAY_TIMEOUT);
    assertThat(MAPPER.readTree(stopped.contentUtf8()).get("error").asText())
        .isEqualTo("stopped v1: the run took longer than max_run_time (200 ms) and was stopped");
    await().atMost(Duration.ofSeconds(10)).until(() -> TestEngine.ABORTED.get() == 1);
    assertThat(outputs(TestEngine.post(http, "stopped", 1).get(10, TimeUnit.SECONDS))).as("the instance serves on")
        .containsExactly(3f, 3f, 3f, 3f);
  }

  @Test
  void aHungModelLeavesOtherModelsServingAndShutdownKeepsItsDeadline() throws Exception {
    CompletableFuture<AggregatedHttpResponse> hung = TestEngine.post(http, "hung", TestEngine.HANG);
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).as("the run hangs").isTrue();

    assertThat(outputs(TestEngine.post(http, "other", 2).get(10, TimeUnit.SECONDS))).containsExactly(5f, 5f, 5f, 5f);

    long started = System.nanoTime();
    server.close();
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    AggregatedHttpResponse answer = hung.get(10, TimeUnit.SECONDS);
    assertThat(answer.status()).as("the hung request is answered").isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(MAPPER.readTree(answer.contentUtf8()).get("error").asText())
        .isEqualTo("hung v1 was unloaded while the request ran; its run was stopped");
    assertThat(TestEngine.ABORTED.get()).as("the drain deadline aborted the run").isEqualTo(1);
    assertThat(TestEngine.CLOSED.get()).as("every instance of the four models is closed").isEqualTo(4);
    // Not a speed target: a shutdown that ignored its deadline would wait for the 60-second hang.
    assertThat(tookMillis).isLessThan(30_000);
  }


  private static float[] outputs(AggregatedHttpResponse response) throws Exception {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
    JsonNode data = MAPPER.readTree(response.contentUtf8()).get("outputs").get(0).get("data");
    float[] values = new float[data.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = data.get(i).floatValue();
    }
    return values;
  }
}
