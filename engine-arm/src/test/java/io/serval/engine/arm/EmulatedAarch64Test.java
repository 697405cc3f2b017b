package io.serval.engine.arm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the built-in models with the {@code arm} engine on Debian's aarch64 JVM under qemu user-mode emulation
 * ({@link EmulatedRun}), from {@code model.onnx} and from {@code model.ort} ({@link OrtModels}), and compares every
 * output value with this JVM's {@code model.onnx} outputs (x86-64 on the build machines) within {@value
 * #TOLERANCE}. Without qemu or the arm64 JRE the test is skipped, naming the packages to install; when the
 * environment variable {@code CI} is set it fails instead, since CI must run it for real.
 */
class EmulatedAarch64Test {
  private static final Path QEMU = Path.of("/usr/bin/qemu-aarch64-static");
  private static final Path ARM64_JAVA = Path.of("/usr/lib/jvm/java-17-openjdk-arm64/bin/java");
  private static final String INSTALL =
      "dpkg --add-architecture arm64 && apt-get update && apt-get install -y qemu-user-static"
          + " openjdk-17-jre-headless:arm64";
  private static final Path MODELS = Path.of("..", "models").toAbsolutePath().normalize();
  private static final Path OUT = Path.of("target", "emulated-aarch64").toAbsolutePath();
  private static final double TOLERANCE = 1e-5;
  private static final long TIMEOUT_SECONDS = 170;

  @Test
  void builtInModelsGiveTheSameOutputsOnEmulatedAarch64AsHere() throws Exception {
    requireEmulator();
    Path ortModels = OrtModels.convert();
    long started = System.nanoTime();
    Path log = runEmulated(ortModels);
    long emulatedMillis = (System.nanoTime() - started) / 1_000_000;

    Properties platform = new Properties();
    try (InputStream in = Files.newInputStream(OUT.resolve(EmulatedRun.PLATFORM))) {
      platform.load(in);
    }
    System.out.printf(
        "emulated aarch64 JVM: %d ms in all; model.onnx runs %s ms, model.ort runs %s ms; %s%n",
        emulatedMillis, platform.getProperty("onnx.millis"), platform.getProperty("ort.millis"), platform);
    assertThat(platform.getProperty("os.arch")).as("os.arch in the emulated JVM").isEqualTo("aarch64");
    assertThat(platform.getProperty("onnxruntime.native.folder"))
        .as("the natives ONNX Runtime chose")
        .isEqualTo("linux-aarch64");
    assertThat(platform.getProperty("onnxruntime.library")).as("mapped ONNX Runtime").contains("libonnxruntime.so");
    assertThat(platform.getProperty("onnxruntime.library.machine"))
        .as("ELF machine of the mapped libonnxruntime.so")
        .isEqualTo("aarch64");

    Map<String, Map<String, float[]>> here;
    try (InferenceEngine engine =
        new ArmEngineProvider().create(EngineContext.of(BuiltInModels.CPU_THREADS, Map.of()))) {
      here = BuiltInModels.runAll(engine, MODELS, MODELS, "model.onnx");
    }
    Map<String, Double> onnx = differences(here, read(EmulatedRun.ONNX_OUTPUTS), log);
    Map<String, Double> ort = differences(here, read(EmulatedRun.ORT_OUTPUTS), log);
    String arch = System.getProperty("os.arch");
    for (String model : BuiltInModels.NAMES) {
      System.out.printf(
          "%-16s max |aarch64 model.onnx - %s model.onnx| = %.3g, |aarch64 model.ort - %s model.onnx| = %.3g%n",
          model, arch, onnx.get(model), arch, ort.get(model));
    }
    assertThat(onnx).allSatisfy((model, max) -> assertThat(max).as(model).isLessThanOrEqualTo(TOLERANCE));
    assertThat(ort).allSatisfy((model, max) -> assertThat(max).as(model + " (.ort)").isLessThanOrEqualTo(TOLERANCE));
  }

  private static Map<String, Map<String, float[]>> read(String file) throws IOException {
    try (InputStream in = Files.newInputStream(OUT.resolve(file))) {
      return BuiltInModels.read(in);
    }
  }

  /** The largest difference per model between this JVM's outputs and the emulated ones. */
  private static Map<String, Double> differences(
      Map<String, Map<String, float[]>> here, Map<String, Map<String, float[]>> emulated, Path log) {
    assertThat(emulated.keySet())
        .as("models run under emulation (log: %s)", log)
        .containsExactlyElementsOf(BuiltInModels.NAMES);
    Map<String, Double> differences = new LinkedHashMap<>();
    for (String model : BuiltInModels.NAMES) {
      differences.put(model, BuiltInModels.maxDifference(model, here.get(model), emulated.get(model)));
    }
    return differences;
  }

  private static void requireEmulator() {
    if (Files.isExecutable(QEMU) && Files.isExecutable(ARM64_JAVA)) {
      return;
    }
    String missing = (Files.isExecutable(QEMU) ? "" : QEMU + " ") + (Files.isExecutable(ARM64_JAVA) ? "" : ARM64_JAVA);
    if (System.getenv("CI") != null) {
      fail("CI must run the aarch64 emulation test, but %s is missing; install with: %s", missing.trim(), INSTALL);
    }
    Assumptions.abort("no aarch64 emulation here (" + missing.trim() + " missing); install with: " + INSTALL);
  }

  /** Runs {@link EmulatedRun} under qemu into {@link #OUT}; returns its log. */
  private static Path runEmulated(Path ortModels) throws IOException, InterruptedException {
    Files.createDirectories(OUT);
    Path log = OUT.resolve("jvm.log");
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> command = new ArrayList<>(List.of(QEMU.toString(), "-L", "/", ARM64_JAVA.toString()));
    // C1 only and the serial collector: under emulation the JVM's own work is slow too, and C2's compiles cost more
    // than they save in a run this short (about 3 s less in 40 on the 2-core build machines).
    command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classPath));
    command.addAll(List.of(EmulatedRun.class.getName(), MODELS.toString(), ortModels.toString(), OUT.toString()));
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      fail(
          "the emulated JVM did not finish within %d s:%n%s",
          TIMEOUT_SECONDS,
          Files.readString(log, StandardCharsets.UTF_8));
    }
    assertThat(process.exitValue())
        .as("exit code of the emulated JVM:%n%s", Files.readString(log, StandardCharsets.UTF_8))
        .isZero();
    return log;
  }
}
