package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KServe's own clients against Serval: the pytest suite in {@code src/test/python/kserve_client} drives {@code
 * kserve.InferenceRESTClient} and {@code kserve.InferenceGRPCClient} against a real server on the built-in models,
 * then its {@code not_ready} tests against a server that is live but not ready (a model that cannot load next to
 * the good one). One server runs at a time. The suite is a pytest process of its own, apart from {@link
 * TritonClientConformanceTest}'s: kserve and {@code tritonclient.grpc} cannot be imported into one Python
 * interpreter. The virtual environment is the same {@code .venv}.
 */
class KServeClientConformanceTest {
  private static final Path KSERVE_TESTS = PythonClients.TESTS.resolve("kserve_client");
  private static final Pattern SUMMARY = Pattern.compile("(?m)^=+ (.*\\b\\d+ passed\\b.*) in [\\d.]+s.* =+$");

  @TempDir Path notReadyRepository;

  @BeforeAll
  static void setUpPython() throws Exception {
    PythonClients.setUp();
  }

  @Test
  void kserveClientsWorkAgainstAReadyServer() throws Exception {
    try (RunningServer server = RunningServer.start(TestRepositories.MODELS)) {
      pytest("not not_ready", Map.of(
          "SERVAL_HTTP_URL", "localhost:" + server.httpPort,
          "SERVAL_GRPC_URL", "localhost:" + server.grpcPort));
    }
  }

  @Test
  void kserveClientsSeeALiveButNotReadyServer() throws Exception {
    TestRepositories.copyBuiltIn(notReadyRepository, TestRepositories.MODEL);
    Path corrupt = TestRepositories.onnxModel(notReadyRepository, "corrupt_model", null);
    Files.createDirectories(corrupt.resolve("1"));
    Files.writeString(corrupt.resolve("1").resolve("model.onnx"), "not an onnx file");
    try (RunningServer server = RunningServer.start(notReadyRepository)) {
      pytest("not_ready", Map.of(
          "SERVAL_NOT_READY_HTTP_URL", "localhost:" + server.httpPort,
          "SERVAL_NOT_READY_GRPC_URL", "localhost:" + server.grpcPort));
    }
  }

  /** Runs the kserve_client tests that {@code marker} selects; every one must pass. */
  private static void pytest(String marker, Map<String, String> servers) throws Exception {
    Map<String, String> environment = new HashMap<>(servers);
    environment.put("SERVAL_MODELS_DIR", TestRepositories.MODELS.toString());
    String output = PythonClients.run(
        List.of(PythonClients.python(), "-m", "pytest", KSERVE_TESTS.toString(),
            "-v", "-p", "no:cacheprovider", "--rootdir=" + KSERVE_TESTS, "--confcutdir=" + KSERVE_TESTS,
            "-m", marker),
        environment, 600);

    Matcher summary = SUMMARY.matcher(output);
    assertThat(summary.find()).as("pytest summary line in:%n%s", output).isTrue();
    assertThat(summary.group(1)).doesNotContain("failed", "error", "skipped");
  }

}
