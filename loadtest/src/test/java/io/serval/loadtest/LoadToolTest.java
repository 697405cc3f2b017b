package io.serval.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.serval.server.ServalServer;
import io.serval.server.config.ServerConfig;
import io.serval.server.testengine.TestEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The load tool against a real Serval whose test model behaves as each request's data says: a poisoned request
 * fails, a slow one takes a known time. So the right counts, percentiles and error kinds are known in advance.
 */
class LoadToolTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static ServalServer server;
  private static String http;
  private static String grpc;

  @TempDir
  Path dir;

  @BeforeAll
  static void startServer(@TempDir Path repository) throws Exception {
    TestEngine.model(repository, "affine", "max_batch_size: 8\n");
    server = ServalServer.start(ServerConfig.load(Map.of(), List.of("--http_port=0", "--grpc_port=0",
        "--metrics_port=0", "--management.port=0", "--model_repositories=" + repository, "--cpu_threads=2")));
    http = "http://127.0.0.1:" + server.ports().get(0);
    grpc = "grpc://127.0.0.1:" + server.ports().get(1);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"grpc", "http", "http-json"})
  void countsRequestsErrorsByKindAndPercentiles(String protocol) throws Exception {
    // Round-robin over four samples: fast, poisoned (fails), slow (30 ms), fast. 120 requests at concurrency 1:
    // 90 answered, 30 failed; a third of the answered ones took at least 30 ms.
    Path samples = dir.resolve("samples.json");
    Files.writeString(samples, "{\"data\": [{\"x\": [1, 2, 3, 4]}, {\"x\": [" + TestEngine.POISON + ", 0, 0, 0]},"
        + " {\"x\": {\"content\": [" + (TestEngine.SLOW + 30) + ", 0, 0, 0], \"shape\": [1, 4]}},"
        + " {\"x\": {\"content\": [5, 6, 7, 8]}}]}");
    List<String> args = new ArrayList<>(List.of("--url", protocol.equals("grpc") ? grpc : http, "--model",
        "affine", "--input-data", samples.toString(), "--requests", "120", "--warmup", "0", "--quiet"));
    if (protocol.equals("http-json")) {
      args.add("--http-json");
    }
    JsonNode level = runOneLevel(args.toArray(String[]::new));

    assertThat(level.path("sent").asLong()).isEqualTo(120);
    assertThat(level.path("requests").asLong()).isEqualTo(90);
    String kind = protocol.equals("grpc") ? "grpc INTERNAL" : "http 500";
    assertThat(level.path("errors").properties()).hasSize(1);
    assertThat(level.path("errors").path(kind).asLong()).isEqualTo(30);
    assertThat(level.path("error_examples").path(kind).asText()).contains("internal error");
    JsonNode latency = level.path("latency_us");
    assertThat(latency.path("p50").asLong()).isLessThan(30_000);
    assertThat(latency.path("p90").asLong()).isGreaterThanOrEqualTo(30_000);
    assertThat(latency.path("max").asLong()).isGreaterThanOrEqualTo(30_000);
  }

  @Test
  void openLoopOffersItsRate() throws Exception {
    JsonNode level = runOneLevel("--url", grpc, "--model", "affine", "--rate", "200", "--duration", "3s",
        "--warmup", "0", "--quiet");

    // Poisson arrivals: 600 expected, a standard deviation of about 25.
    assertThat(level.path("sent").asDouble()).isCloseTo(600, within(90.0));
    assertThat(level.path("requests_per_sec").asDouble()).isCloseTo(200, within(30.0));
    assertThat(level.path("errors").isEmpty()).isTrue();
  }

  @Test
  void generatesInputsFromMetadataAndWritesCsvJsonAndChart() throws Exception {
    Path out = dir.resolve("out");
    int status = LoadTool.run("--url", http, "--model", "affine", "--concurrency", "1,2", "--duration", "1s",
        "--warmup", "200ms", "--batch", "3", "--label", "serval test", "--out", out.toString(), "--quiet");

    assertThat(status).isZero();
    JsonNode run = JSON.readTree(out.resolve("results.json").toFile());
    assertThat(run.path("inputs").get(0).path("datatype").asText()).isEqualTo("FP32");
    assertThat(run.path("levels")).hasSize(2);
    for (JsonNode level : run.path("levels")) {
      assertThat(level.path("requests").asLong()).isPositive();
      assertThat(level.path("errors").isEmpty()).isTrue();
      assertThat(level.path("infer_per_sec").asDouble())
          .isCloseTo(3 * level.path("requests_per_sec").asDouble(), within(0.01));
      assertThat(level.path("timeline")).hasSize(1);
    }
    List<String> csv = Files.readAllLines(out.resolve("results.csv"));
    assertThat(csv).hasSize(3);
    assertThat(csv.get(0)).isEqualTo(Reports.CSV_HEADER);
    assertThat(csv.get(1)).startsWith("serval test,http-binary,concurrency,1,");
    assertThat(Files.readString(out.resolve("chart.html"))).contains("<svg", "serval test (http-binary)");

    Path merged = dir.resolve("merged");
    Path other = dir.resolve("other");
    LoadTool.run("--url", grpc, "--model", "affine", "--duration", "1s", "--warmup", "0", "--label", "second",
        "--out", other.toString(), "--quiet");
    assertThat(LoadTool.run("chart", "--out", merged.toString(), out.resolve("results.json").toString(),
        other.resolve("results.json").toString())).isZero();
    assertThat(Files.readString(merged.resolve("chart.html"))).contains("serval test (http-binary)", "second (grpc)");
    assertThat(Files.readAllLines(merged.resolve("results.csv"))).hasSize(4);
  }

  @Test
  void namesWhatIsWrongWithACommandLine() {
    assertThatThrownBy(() -> LoadOptions.parse("--url", grpc, "--model", "m", "--concurrency", "0"))
        .hasMessage("--concurrency: 0 (expected: numbers > 0, comma-separated)");
    assertThatThrownBy(() -> LoadOptions.parse("--url", "localhost:8001", "--model", "m"))
        .hasMessage("--url: localhost:8001 (expected: grpc://HOST:PORT or http://HOST:PORT)");
    assertThatThrownBy(() -> LoadOptions.parse("--url", grpc, "--model", "m", "--rate", "5", "--concurrency", "2"))
        .hasMessage("--concurrency and --rate: give one of them, not both");
    assertThatThrownBy(() -> LoadOptions.parse("--url", grpc, "--model", "m", "--duration", "soon"))
        .hasMessage("--duration: soon (expected: a duration such as 10s, 500ms or 2m, above 0)");
    assertThatThrownBy(() -> LoadOptions.parse("--url", grpc)).hasMessage("--model: required");
    assertThatThrownBy(() -> LoadOptions.parse("--url", grpc, "--model", "m", "--verbose"))
        .hasMessage("--verbose: unknown option");
    assertThat(LoadTool.run("--url", grpc, "--model", "m", "--bogus")).isEqualTo(2);
  }

  @Test
  void refusesAnUnknownModelOrInputBeforeLoading() {
    assertThat(LoadTool.run("--url", http, "--model", "missing", "--duration", "1s")).isEqualTo(1);
    assertThat(LoadTool.run("--url", grpc, "--model", "affine", "--shape", "nope=1,4", "--duration", "1s"))
        .isEqualTo(2);
  }

  private JsonNode runOneLevel(String... args) throws Exception {
    Path out = dir.resolve("run-" + System.nanoTime());
    String[] withOut = Arrays.copyOf(args, args.length + 2);
    withOut[args.length] = "--out";
    withOut[args.length + 1] = out.toString();
    assertThat(LoadTool.run(withOut)).isZero();
    return JSON.readTree(out.resolve("results.json").toFile()).path("levels").get(0);
  }
}
