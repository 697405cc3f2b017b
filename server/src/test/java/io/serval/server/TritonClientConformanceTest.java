package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Triton's own clients against Serval: the pytest suite in {@code src/test/python} drives {@code
 * tritonclient.http}, {@code tritonclient.grpc} and {@code perf_analyzer} against a real server on the built-in
 * models. {@code setup_env.sh} builds their virtual environment in {@code .venv} at the project root once.
 */
class TritonClientConformanceTest {
  private static final int MAX_REQUEST_BYTES = 4 << 20;

  private static RunningServer server;
  @TempDir static Path pipelines;

  @BeforeAll
  static void start() throws Exception {
    PythonClients.setUp();
    // test_pipeline.py: a pipeline over the built-in classifier, in a second repository.
    Files.createDirectories(pipelines.resolve("orientation"));
    Files.writeString(pipelines.resolve("orientation").resolve("pipeline.yaml"), """
        inputs:  [{name: image, datatype: FP32, dims: [-1, 3, 48, 192]}]
        outputs: [{name: probabilities, from: classify.softmax_0.tmp_0}, {name: direction, from: top.index}]
        nodes:
          - {name: classify, op: infer, inputs: {x: image}, params: {model: ocr_orientation}}
          - {name: top, op: argmax, inputs: {x: classify.softmax_0.tmp_0}}
        """);
    server = RunningServer.start(TestRepositories.MODELS, "--limits.max_request_bytes=" + MAX_REQUEST_BYTES,
        "--model_repositories=" + TestRepositories.MODELS + "," + pipelines);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void tritonClientsAndPerfAnalyzerWorkUnchanged() throws Exception {
    String output = PythonClients.run(
        List.of(PythonClients.python(), "-m", "pytest", PythonClients.TESTS.toString(),
            "-v", "-p", "no:cacheprovider"),
        Map.of(
            "SERVAL_HTTP_URL", "localhost:" + server.httpPort,
            "SERVAL_GRPC_URL", "localhost:" + server.grpcPort,
            "SERVAL_MODELS_DIR", TestRepositories.MODELS.toString(),
            "SERVAL_MAX_REQUEST_BYTES", Integer.toString(MAX_REQUEST_BYTES),
            "PERF_ANALYZER", PythonClients.VENV.resolve("bin").resolve("perf_analyzer").toString()),
        1200);

    assertThat(output).contains(" passed").doesNotContain(" failed", " error");
  }

}
