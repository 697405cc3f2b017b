package io.serval.engine.onnxruntime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.serval.core.DataType;
import io.serval.core.InternalException;
import io.serval.core.MemoryScope;
import io.serval.core.ModelSignature;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.engine.Device;
import io.serval.engine.EngineContext;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelLoadException;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the built-in PaddleOCR orientation classifier through the engine and checks the golden pair. */
class OnnxRuntimeEngineTest {
  private static final Path MODEL_DIR = Path.of("..", "models", "ocr_orientation");
  private static final Path MODEL_FILE = MODEL_DIR.resolve("1").resolve("model.onnx");
  private static final String OUTPUT = "softmax_0.tmp_0";

  private static OnnxRuntimeEngine engine;

  @BeforeAll
  static void createEngine() {
    engine = OnnxRuntimeEngine.create(EngineContext.of(2, Map.of()));
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  @Test
  void isAvailableOnThisPlatform() {
    assertThat(engine.availability().isAvailable()).as(engine.availability().toString()).isTrue();
    assertThat(engine.threadingSummary()).startsWith("2 intra-op threads");
  }

  @Test
  void inspectsTheSignatureWithDynamicDimensions() throws Exception {
    ModelSignature signature = engine.inspect(MODEL_FILE);

    assertThat(signature.inputs()).containsExactly(TensorSpec.of("x", DataType.FP32, -1, 3, -1, -1));
    assertThat(signature.outputs()).containsExactly(TensorSpec.of(OUTPUT, DataType.FP32, -1, 2));
  }

  @Test
  void classifiesTheGoldenTextLinesLikeOnnxRuntimeInPython() throws Exception {
    Tensor input = Tensor.of("x", DataType.FP32, new long[] {2, 3, 48, 192}, readGolden("input_x.bin"));
    FloatBuffer expected = readGolden("output_softmax.bin").asFloatBuffer();

    MemoryScope scope = MemoryScope.open();
    try (ModelInstance instance = engine.open(spec(MODEL_FILE))) {
      RunResult result = instance.run(List.of(input), List.of(OUTPUT), RunContext.of(scope));
      List<Tensor> outputs = result.outputs();
      assertThat(scope.allocatedBytes()).as("outputs live in the run's scope").isEqualTo(2 * 2 * 4);

      assertThat(outputs).hasSize(1);
      Tensor output = outputs.get(0);
      assertThat(output.name()).isEqualTo(OUTPUT);
      assertThat(output.shape()).containsExactly(2, 2);
      FloatBuffer actual = output.floats();
      for (int i = 0; i < 4; i++) {
        assertThat(actual.get(i)).as("element %d", i).isCloseTo(expected.get(i), within(1e-5f));
      }
      assertThat(actual.get(0)).as("upright line is class 0").isGreaterThan(actual.get(1));
      assertThat(actual.get(3)).as("rotated line is class 180").isGreaterThan(actual.get(2));
      assertThat(result.inputNanos()).as("input phase measured").isPositive();
      assertThat(result.inferNanos()).as("infer phase measured").isPositive();
      assertThat(result.outputNanos()).as("output phase measured").isPositive();
    } finally {
      scope.release();
    }
    assertThat(scope.isReleased()).isTrue();
  }

  @Test
  void readsOutputsThroughTheNativeViewWithOneCopy() {
    assertThat(NativeOutputs.oneCopy()).isTrue();
  }

  @Test
  void anAbortedRunStopsWithAnErrorAndTheSessionKeepsServing() throws Exception {
    Tensor input = Tensor.of("x", DataType.FP32, new long[] {2, 3, 48, 192}, readGolden("input_x.bin"));
    MemoryScope scope = MemoryScope.open();
    try (ModelInstance instance = engine.open(spec(MODEL_FILE))) {
      RunContext aborted = RunContext.of(scope);
      aborted.abort();

      assertThatThrownBy(() -> instance.run(List.of(input), List.of(OUTPUT), aborted))
          .isInstanceOf(InternalException.class)
          .hasMessageContaining("the run was stopped");
      RunResult next = instance.run(List.of(input), List.of(OUTPUT), RunContext.of(scope));
      assertThat(next.outputs().get(0).shape()).containsExactly(2, 2);
    } finally {
      scope.release();
    }
  }

  @Test
  void reportsAMissingModelFileWithItsPath(@TempDir Path dir) {
    Path missing = dir.resolve("model.onnx");

    assertThatThrownBy(() -> engine.open(spec(missing)))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("does not exist");
  }

  @Test
  void reportsAFileThatIsNotAnOnnxModel(@TempDir Path dir) throws IOException {
    Path garbage = Files.writeString(dir.resolve("model.onnx"), "this is not a model");

    assertThatThrownBy(() -> engine.inspect(garbage))
        .isInstanceOf(ModelLoadException.class)
        .hasMessageContaining("onnxruntime cannot load " + garbage);
  }

  private static InstanceSpec spec(Path file) {
    return InstanceSpec.of("ocr_orientation", 1, file, Device.cpu(), 0, Map.of());
  }

  private static ByteBuffer readGolden(String name) throws IOException {
    byte[] bytes = Files.readAllBytes(MODEL_DIR.resolve("golden").resolve(name));
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
