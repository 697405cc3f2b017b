package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Python side of the conformance tests: the pytest suites in {@code src/test/python} and the virtual
 * environment that {@code setup_env.sh} builds once in {@code .venv} at the project root (tritonclient,
 * perf_analyzer, kserve).
 */
public final class PythonClients {
  /** The pytest suites. */
  public static final Path TESTS = Path.of("src", "test", "python").toAbsolutePath();
  /** The virtual environment. */
  public static final Path VENV = Path.of("..", ".venv").toAbsolutePath().normalize();

  private PythonClients() {}

  /** Builds the virtual environment, or finds it up to date. */
  public static void setUp() throws IOException, InterruptedException {
    run(List.of("bash", TESTS.resolve("setup_env.sh").toString(), VENV.toString()), Map.of(), 1200);
  }

  /** The environment's Python interpreter. */
  public static String python() {
    return VENV.resolve("bin").resolve("python").toString();
  }

  /** Runs a command, echoing its output to the test's log; fails with the output when it exits non-zero. */
  public static String run(List<String> command, Map<String, String> environment, long timeoutSeconds)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("serval-python", ".log");
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
