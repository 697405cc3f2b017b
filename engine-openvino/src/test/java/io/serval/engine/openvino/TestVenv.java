package io.serval.engine.openvino;

import static org.assertj.core.api.Assertions.assertThat;

import io.serval.engine.EngineContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The project's Python test environment in {@code ../.venv}, built (or found up to date) by the server's {@code
 * setup_env.sh}, which installs the openvino wheel: the engine under test finds its runtime there by its own search.
 */
final class TestVenv {
  static final Path VENV = Path.of("..", ".venv").toAbsolutePath().normalize();
  private static final Path SETUP = Path.of("..", "server", "src", "test", "python", "setup_env.sh");
  private static boolean ready;

  private TestVenv() {}

  /** Builds the environment once per test run; a failure fails the calling test with the script's output. */
  static synchronized void ensure() throws IOException, InterruptedException {
    if (!ready) {
      run(List.of("bash", SETUP.toString(), VENV.toString()), 1800);
      ready = true;
    }
  }

  /**
   * An OpenVINO engine on the environment's wheel, found by the engine's own search, with 2 CPU threads; fails the
   * calling test when the engine is unavailable, naming why. The caller closes it.
   */
  static OpenVinoEngine startedEngine() throws IOException, InterruptedException {
    ensure();
    OpenVinoEngine engine = OpenVinoEngine.create(EngineContext.of(2, Map.of()));
    assertThat(engine.availability().isAvailable()).as(engine.availability().toString()).isTrue();
    return engine;
  }

  /** A program of the environment ({@code python}, {@code ovc}). */
  static String bin(String name) {
    return VENV.resolve("bin").resolve(name).toString();
  }

  /** Runs a command; fails with its output when it exits non-zero or outlasts {@code timeoutSeconds}. */
  static void run(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
    Path log = Files.createTempFile("serval-openvino", ".log");
    try {
      Process process =
          new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      boolean finished = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
      if (!finished) {
        process.destroyForcibly();
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      System.out.println(output);
      assertThat(finished).as("%s finished within %d s:%n%s", command, timeoutSeconds, output).isTrue();
      assertThat(process.exitValue()).as("exit code of %s:%n%s", command, output).isZero();
    } finally {
      Files.delete(log);
    }
  }
}
