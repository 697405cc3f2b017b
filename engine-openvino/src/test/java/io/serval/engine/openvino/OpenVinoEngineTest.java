package io.serval.engine.openvino;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.core.DataType;
import io.serval.core.InternalException;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import io.serval.engine.Device;
import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngineProvider;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelLoadException;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenVINO engine on the wheel of the project's test environment, found by the engine's own search. */
class OpenVinoEngineTest {
  private static final Path DIGITS = BuiltInModels.DIGITS.onnx();
  private static final String PROBABILITIES = "probabilities";

  private static OpenVinoEngine engine;

  @BeforeAll
  static void createEngine() throws Exception {
    engine = TestVenv.startedEngine();
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  @Test
  void isRegisteredAsAServiceNamedOpenvino() {
    assertThat(ServiceLoader.load(InferenceEngineProvider.class).stream().map(p -> p.get().name()))
        .contains(OpenVinoEngine.NAME);
    assertThat(engine.name()).isEqualTo("openvino");
    assertThat(engine.modelFileNames()).containsExactly("model.xml", "model.onnx");
  }

  @Test
  void findsTheWheelsLibraryAndStatesItsThreadBudget() {
    assertThat(engine.library()).isNotNull();
    assertThat(engine.library().getFileName().toString()).startsWith("libopenvino_c.so");
    assertThat(engine.threadingSummary()).startsWith("up to 2 intra-op threads per instance");
  }

  @Test
  void compilesForLatencyWithTheWholeBudgetByDefault() throws Exception {
    try (OpenVinoInstance instance = open(DIGITS, Map.of())) {
      assertThat(instance.compiledProperty("PERFORMANCE_HINT")).isEqualTo("LATENCY");
      assertThat(instance.compiledProperty("INFERENCE_NUM_THREADS")).isEqualTo("2");
      assertThat(instance.compiledProperty("NUM_STREAMS")).isEqualTo("1");
      assertThat(instance.compiledProperty("INFERENCE_PRECISION_HINT")).isEqualTo("f32");
      assertThat(instance.compiledProperty("ENABLE_CPU_PINNING")).isEqualTo("NO");
    }
  }

  @Test
  void compilesWithTheHintThreadsAndStreamsAModelAsksFor() throws Exception {
    Map<String, String> throughput = Map.of("performance_hint", "throughput", "threads", "2", "num_streams", "2");
    try (OpenVinoInstance instance = open(DIGITS, throughput)) {
      assertThat(instance.compiledProperty("PERFORMANCE_HINT")).isEqualTo("THROUGHPUT");
      assertThat(instance.compiledProperty("NUM_STREAMS")).isEqualTo("2");
    }
    try (OpenVinoInstance instance = open(DIGITS, Map.of("threads", "1"))) {
      assertThat(instance.compiledProperty("INFERENCE_NUM_THREADS")).isEqualTo("1");
    }
  }

  @Test
  void refusesMoreThreadsThanTheEngineBudget() {
    assertThatThrownBy(() -> open(DIGITS, Map.of("threads", "3")))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("digits v1 #0 on cpu: parameter threads: 3 (expected: 1 to 2, the openvino engine's CPU thread"
            + " budget)");
  }

  @Test
  void refusesAParameterItDoesNotKnow() {
    assertThatThrownBy(() -> open(DIGITS, Map.of("thread", "1")))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("unknown parameter 'thread' for the openvino engine")
        .hasMessageContaining("threads");
  }

  @Test
  void refusesAModelWithStringInputs(@TempDir Path dir) throws IOException {
    Path xml = Files.writeString(dir.resolve("model.xml"), STRING_IDENTITY_IR);
    Files.write(dir.resolve("model.bin"), new byte[0]);

    assertThatThrownBy(() -> engine.inspect(xml))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage(xml + ": input 'text' has element type string, which the openvino engine does not support"
            + " (serve string models with onnxruntime)");
  }

  @Test
  void reportsAMissingModelFileWithItsPath(@TempDir Path dir) {
    Path missing = dir.resolve("model.onnx");

    assertThatThrownBy(() -> engine.open(spec(missing, Map.of())))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("model file " + missing + " does not exist");
  }

  @Test
  void reportsAnIrWithoutItsWeights(@TempDir Path dir) throws IOException {
    Path xml = Files.writeString(dir.resolve("model.xml"), STRING_IDENTITY_IR);

    assertThatThrownBy(() -> engine.inspect(xml))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("OpenVINO IR " + xml + " has no weights: " + dir.resolve("model.bin") + " does not exist");
  }

  @Test
  void reportsAFileThatIsNotAModelInOpenVinosWords(@TempDir Path dir) throws IOException {
    Path garbage = Files.writeString(dir.resolve("model.onnx"), "this is not a model");

    assertThatThrownBy(() -> engine.inspect(garbage))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageStartingWith("openvino cannot read " + garbage + ": ")
        .hasMessageNotContaining("Exception from src/");
  }

  @Test
  void rejectsAnInputOfTheWrongShapeWithOpenVinosMessage() throws Exception {
    Tensor wrong = Tensor.ofFloats("x", new long[] {1, 1, 27, 28}, new float[27 * 28]);
    MemoryScope scope = MemoryScope.open();
    try (OpenVinoInstance instance = open(DIGITS, Map.of())) {
      assertThatThrownBy(() -> instance.run(List.of(wrong), List.of(PROBABILITIES), RunContext.of(scope)))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("digits v1 #0 on cpu: openvino rejected input 'x' FP32[1,1,27,28]: ")
          .hasMessageContaining("incompatible");
      assertThat(runDigits(instance, scope).outputs().get(0).shape()).containsExactly(3, 10);
    } finally {
      scope.release();
    }
  }

  @Test
  void rejectsARunThatLeavesAnInputOut() throws Exception {
    List<Tensor> inputs = BuiltInModels.SPAM.inputs();
    MemoryScope scope = MemoryScope.open();
    try (OpenVinoInstance instance = open(BuiltInModels.SPAM.onnx(), Map.of())) {
      assertThatThrownBy(() -> instance.run(inputs.subList(0, 2), List.of(PROBABILITIES), RunContext.of(scope)))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("2 inputs for a model with 3");
    } finally {
      scope.release();
    }
  }

  @Test
  void anAbortedRunStopsWithAnErrorAndTheInstanceKeepsServing() throws Exception {
    MemoryScope scope = MemoryScope.open();
    try (OpenVinoInstance instance = open(DIGITS, Map.of())) {
      RunContext aborted = RunContext.of(scope);
      aborted.abort();

      assertThatThrownBy(() -> instance.run(digitsInput(), List.of(PROBABILITIES), aborted))
          .isInstanceOf(InternalException.class)
          .hasMessageContaining("the run was stopped");
      RunResult next = runDigits(instance, scope);
      assertThat(next.outputs().get(0).shape()).containsExactly(3, 10);
      assertThat(next.inputNanos()).isPositive();
      assertThat(next.inferNanos()).isPositive();
      assertThat(next.outputNanos()).isPositive();
    } finally {
      scope.release();
    }
  }

  @Test
  void anAbortWhileTheModelRunsStopsItAndTheInstanceKeepsServing() throws Exception {
    Tensor page = Tensor.ofFloats("x", new long[] {1, 3, 1280, 1280}, new float[3 * 1280 * 1280]);
    MemoryScope scope = MemoryScope.open();
    try (OpenVinoInstance instance = open(BuiltInModels.OCR_DET.onnx(), Map.of())) {
      RunContext context = RunContext.of(scope);
      CompletableFuture<RunResult> run =
          CompletableFuture.supplyAsync(() -> instance.run(List.of(page), List.of("sigmoid_0.tmp_0"), context));
      context.abort();

      assertThatThrownBy(run::join)
          .hasCauseInstanceOf(InternalException.class)
          .hasMessageContaining("the run was stopped");
      List<Tensor> inputs = BuiltInModels.OCR_DET.inputs();
      RunResult next = instance.run(inputs, List.of("sigmoid_0.tmp_0"), RunContext.of(scope));
      assertThat(next.outputs().get(0).shape()).containsExactly(1, 1, 256, 320);
    } finally {
      scope.release();
    }
  }

  @Test
  void outputsLiveInTheRunsMemoryScope() throws Exception {
    MemoryScope scope = MemoryScope.open();
    try (OpenVinoInstance instance = open(DIGITS, Map.of())) {
      Tensor output = runDigits(instance, scope).outputs().get(0);

      assertThat(output.dataType()).isEqualTo(DataType.FP32);
      assertThat(scope.allocatedBytes()).isEqualTo(3 * 10 * Float.BYTES);
    } finally {
      scope.release();
    }
  }

  @Test
  void manySequentialRunsKeepTheProcessMemoryFlat() throws Exception {
    try (OpenVinoInstance instance = open(DIGITS, Map.of())) {
      runDigits(instance, 200);
      long before = residentBytes();
      runDigits(instance, 3000);
      long grown = residentBytes() - before;
      System.out.printf("resident memory growth over 3000 runs: %d KiB%n", grown >> 10);

      assertThat(grown).as("resident memory growth over 3000 runs, bytes").isLessThan(32L << 20);
    }
  }

  @Test
  void closingInstancesFreesTheirCompiledModels() throws Exception {
    Path recognizer = BuiltInModels.OCR_REC.onnx();
    open(recognizer, Map.of()).close();
    long before = residentBytes();
    for (int i = 0; i < 12; i++) {
      OpenVinoInstance instance = open(recognizer, Map.of());
      instance.close();
      instance.close();
    }
    long grown = residentBytes() - before;
    System.out.printf("resident memory growth over 12 opened and closed instances: %d KiB%n", grown >> 10);

    assertThat(grown).as("resident memory growth over 12 opened and closed instances, bytes").isLessThan(64L << 20);
  }

  @Test
  void aClosedInstanceRefusesToRun() throws Exception {
    OpenVinoInstance instance = open(DIGITS, Map.of());
    instance.close();
    MemoryScope scope = MemoryScope.open();
    try {
      assertThatThrownBy(() -> runDigits(instance, scope))
          .isInstanceOf(InternalException.class)
          .hasMessage("digits v1 #0 on cpu: the openvino instance is closed");
    } finally {
      scope.release();
    }
  }

  @Test
  void aBogusLibDirMakesTheEngineUnavailableNamingIt(@TempDir Path dir) {
    Path bogus = dir.resolve("no-openvino-here");
    OpenVinoEngine unavailable = OpenVinoEngine.create(EngineContext.of(2, Map.of("lib_dir", bogus.toString())));

    assertThat(unavailable.availability().isAvailable()).isFalse();
    assertThat(unavailable.availability().reason())
        .startsWith("OpenVINO runtime not found: no libopenvino_c.so in engines.openvino.lib_dir (searched: "
            + bogus + ")");
    assertThatThrownBy(() -> unavailable.inspect(DIGITS))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(bogus.toString());
    assertThat(unavailable.availability().reason())
        .endsWith("). Set engines.openvino.lib_dir or OPENVINO_LIB_DIR to the folder holding libopenvino_c.so (an"
            + " openvino wheel's openvino/libs)");
    assertThat(unavailable.threadingSummary()).startsWith("none (unavailable: ");
  }

  @Test
  void anUnknownSettingMakesTheEngineUnavailable() {
    OpenVinoEngine unavailable = OpenVinoEngine.create(EngineContext.of(2, Map.of("libdir", "/opt/openvino")));

    assertThat(unavailable.availability().reason()).isEqualTo("unknown setting 'libdir' (expected: lib_dir)");
  }

  private static OpenVinoInstance open(Path file, Map<String, String> parameters) throws ModelLoadException {
    return (OpenVinoInstance) engine.open(spec(file, parameters));
  }

  private static InstanceSpec spec(Path file, Map<String, String> parameters) {
    String name = file.getParent() == null || file.getParent().getParent() == null
        ? "model"
        : file.getParent().getParent().getFileName().toString();
    return InstanceSpec.of(name, 1, file, Device.cpu(), 0, parameters);
  }

  private static List<Tensor> digitsInput() throws IOException {
    return BuiltInModels.DIGITS.inputs();
  }

  private static RunResult runDigits(ModelInstance instance, MemoryScope scope) throws IOException {
    return instance.run(digitsInput(), List.of(PROBABILITIES), RunContext.of(scope));
  }

  private static void runDigits(ModelInstance instance, int times) throws IOException {
    List<Tensor> input = digitsInput();
    for (int i = 0; i < times; i++) {
      MemoryScope scope = MemoryScope.open();
      try {
        instance.run(input, List.of(PROBABILITIES), RunContext.of(scope));
      } finally {
        scope.release();
      }
    }
  }

  /** The process's resident set, after a collection so that the Java heap's garbage does not count. */
  private static long residentBytes() throws IOException {
    System.gc();
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  /** An IR whose one input is a string tensor, passed straight to the output. */
  private static final String STRING_IDENTITY_IR =
      "<?xml version=\"1.0\"?>\n"
          + "<net name=\"strings\" version=\"11\">\n"
          + "  <layers>\n"
          + "    <layer id=\"0\" name=\"text\" type=\"Parameter\" version=\"opset1\">\n"
          + "      <data shape=\"?\" element_type=\"string\" />\n"
          + "      <output><port id=\"0\" precision=\"STRING\" names=\"text\"><dim>-1</dim></port></output>\n"
          + "    </layer>\n"
          + "    <layer id=\"1\" name=\"out\" type=\"Result\" version=\"opset1\">\n"
          + "      <input><port id=\"0\" precision=\"STRING\"><dim>-1</dim></port></input>\n"
          + "    </layer>\n"
          + "  </layers>\n"
          + "  <edges><edge from-layer=\"0\" from-port=\"0\" to-layer=\"1\" to-port=\"0\" /></edges>\n"
          + "</net>\n";
}
