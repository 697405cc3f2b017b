package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Triton's own clients against Serval: the pytest suite in {@code src/test/python} drives {@code
 * tritonclient.http}, {@code tritonclient.grpc} and {@code perf_analyzer} against a real server on the built-in
 * models. {@code setup_env.sh} builds their virtual environment in {@code .venv} at the project root once.
 */
class TritonClientConformanceTest {
  private static final Path PYTHON_TESTS = Path.of("src", "test", "python").toAbsolutePath();
  private static final Path VENV = Path.of("..", ".venv").toAbsolutePath().normalize();
  private static final int MAX_REQUEST_BYTES = 4 << 20;

  private static RunningServer server;

  @BeforeAll
  static void start() throws Exception {
    run(List.of("bash", PYTHON_TESTS.resolve("setup_env.sh").toString(), VENV.toString()), Map.of(), 1200);
    server = RunningServer.start(TestRepositories.MODELS, "--limits.max_request_bytes=" + MAX_REQUEST_BYTES);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void tritonClientsAndPerfAnalyzerWorkUnchanged() throws Exception {
    String output = run(
        List.of(VENV.resolve("bin").resolve("python").toString(), "-m", "pytest", PYTHON_TESTS.toString(),
            "-v", "-p", "no:cacheprovider"),
        Map.of(
            "SERVAL_HTTP_URL", "localhost:" + server.httpPort,
            "SERVAL_GRPC_URL", "localhost:" + server.grpcPort,
            "SERVAL_MODELS_DIR", TestRepositories.MODELS.toString(),
            "SERVAL_MAX_REQUEST_BYTES", Integer.toString(MAX_REQUEST_BYTES),
            "PERF_ANALYZER", VENV.resolve("bin").resolve("perf_analyzer").toString()),
        1200);

    assertThat(output).contains(" passed").doesNotContain(" failed", " error");
  }

  /** Runs a command, echoing its output to this test's log; fails with the output when it exits non-zero. */
  private static String run(List<String> command, Map<String, String> environment, long timeoutSeconds)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("serval-conformance", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(environment);
    Process process = builder.start();
    boolean finished = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    if (!finished) {
      process.destroyForcibly();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    System.out.println(output);
    assertThat(finished).as("%s finished within %d s:%n%s", command, timeoutSeconds, output).isTrue();
    assertThat(process.exitValue()).as("exit code of %s:%n%s", command, output).isZero();
    return output;
  }
}
