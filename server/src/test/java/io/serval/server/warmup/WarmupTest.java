package io.serval.server.warmup;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import io.serval.server.ServalServer;
import io.serval.server.config.ServerConfig;
import io.serval.server.security.TokenHash;
import io.serval.server.testengine.TestEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm-up before ready: its requests reach every model through every front end before the server reports
 * ready, they are left out of the statistics clients read, and they pass the server's own access control.
 */
class WarmupTest {
  @TempDir
  Path dir;

  @BeforeEach
  void resetEngine() {
    TestEngine.reset();
  }

  @Test
  void sendsRequestsThroughEveryFrontEndIntoEveryModelBeforeReady() throws Exception {
    Path repository = dir.resolve("models");
    TestEngine.model(repository, "first", "max_batch_size: 8\n");
    TestEngine.model(repository, "second", "max_batch_size: 8\n");

    try (ServalServer server = start(repository, "--warmup.requests=20")) {
      // 20 requests over gRPC and 20 over HTTP binary, a tenth as many over HTTP JSON, split over two models:
      // 10 + 10 + 1 runs each (no dynamic batching, so every request is a run of its own).
      assertThat(TestEngine.RUNS.get()).isEqualTo(42);
      assertThat(server.status().ready()).isTrue();
      for (String model : List.of("first", "second")) {
        var statistics = server.repository().resolve(model, "").metrics().statistics();
        assertThat(statistics.inferenceCount()).as("statistics of %s start when the server is ready", model)
            .isZero();
        assertThat(statistics.executionCount()).isZero();
      }
      AggregatedHttpResponse metrics = WebClient.of("http://127.0.0.1:" + server.ports().get(2))
          .get("/metrics").aggregate().get(10, TimeUnit.SECONDS);
      assertThat(metrics.contentUtf8()).contains("serval_inference_requests_total{model=\"first\"");
    }
  }

  @Test
  void passesTheServersOwnAccessControlWhichStillRefusesOthers() throws Exception {
    Path repository = dir.resolve("models");
    TestEngine.model(repository, "guarded", "max_batch_size: 8\n");
    Path config = Files.writeString(dir.resolve("serval.yaml"), "auth:\n  tokens:\n    - name: ci\n      sha256: "
        + TokenHash.sha256Hex("a-token-for-tests") + "\n      scopes: [infer]\n");

    try (ServalServer server = start(repository, "--warmup.requests=10", "--config", config.toString())) {
      assertThat(TestEngine.RUNS.get()).isEqualTo(21);
      AggregatedHttpResponse anonymous = TestEngine.post(WebClient.of("http://127.0.0.1:" + server.ports().get(0)),
          "guarded", 1f).get(10, TimeUnit.SECONDS);
      assertThat(anonymous.status().code()).isEqualTo(401);
    }
  }

  @Test
  void zeroRequestsTurnsItOff() throws Exception {
    Path repository = dir.resolve("models");
    TestEngine.model(repository, "cold", "max_batch_size: 8\n");

    try (ServalServer server = start(repository, "--warmup.requests=0")) {
      assertThat(TestEngine.RUNS.get()).isZero();
      assertThat(server.status().ready()).isTrue();
    }
  }

  private static ServalServer start(Path repository, String... options) throws Exception {
    List<String> args = new ArrayList<>(List.of("--http_port=0", "--grpc_port=0", "--metrics_port=0",
        "--management.port=0", "--model_repositories=" + repository, "--cpu_threads=2"));
    args.addAll(List.of(options));
    return ServalServer.start(ServerConfig.load(Map.of(), args));
  }
}
