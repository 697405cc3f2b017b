package io.serval.engine.arm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The built-in models converted to ORT format, in {@code target/ort-models/NAME/1/model.ort}, by ONNX Runtime's
 * Python package in the project's venv ({@code src/test/python/convert_to_ort.py}; the venv is built by the
 * conformance suite's {@code setup_env.sh}, which returns at once when it is up to date).
 */
final class OrtModels {
  /** The folder holding {@code NAME/1/model.ort} for every built-in model. */
  static final Path DIR = Path.of("target", "ort-models").toAbsolutePath();

  private static final Path MODELS = Path.of("..", "models").toAbsolutePath().normalize();
  private static final Path VENV = Path.of("..", ".venv").toAbsolutePath().normalize();
  private static final Path SETUP_ENV =
      Path.of("..", "server", "src", "test", "python", "setup_env.sh").toAbsolutePath().normalize();
  private static final Path CONVERT = Path.of("src", "test", "python", "convert_to_ort.py").toAbsolutePath();

  private static boolean converted;

  private OrtModels() {}

  /** Converts every built-in model, once per JVM; returns {@link #DIR}. */
  static synchronized Path convert() throws IOException, InterruptedException {
    if (!converted) {
      run(List.of("bash", SETUP_ENV.toString(), VENV.toString()), 1200);
      List<String> command =
          new ArrayList<>(List.of(VENV.resolve("bin").resolve("python").toString(), CONVERT.toString()));
      for (String name : BuiltInModels.NAMES) {
        command.add(MODELS.resolve(name).resolve("1").resolve("model.onnx").toString());
        command.add(Files.createDirectories(DIR.resolve(name).resolve("1")).resolve("model.ort").toString());
      }
      run(command, 300);
      converted = true;
    }
    return DIR;
  }

  private static void run(List<String> command, long timeoutSeconds) throws IOException, InterruptedException {
    Path log = Files.createTempFile("serval-ort", ".log");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean finished = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    if (!finished) {
      process.destroyForcibly().waitFor();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    System.out.println(output);
    assertThat(finished).as("%s finished within %d s:%n%s", command, timeoutSeconds, output).isTrue();
    assertThat(process.exitValue()).as("exit code of %s:%n%s", command, output).isZero();
  }
}
