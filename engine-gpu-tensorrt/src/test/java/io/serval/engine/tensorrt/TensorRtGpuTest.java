package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.serval.core.DataType;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.engine.Device;
import io.serval.engine.EngineContext;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds and runs the built-in text-line orientation classifier on a GPU and checks it against ONNX Runtime's golden
 * output. Runs only where the probe finds TensorRT's natives and a GPU; elsewhere each test is skipped with the
 * probe's reason.
 */
@Tag("gpu")
class TensorRtGpuTest {
  private static final Path MODEL_DIR = Path.of("..", "models", "ocr_orientation");
  private static final Path MODEL_FILE = MODEL_DIR.resolve("1").resolve("model.onnx");
  private static final String OUTPUT = "softmax_0.tmp_0";
  private static final Map<String, String> PARAMETERS = Map.of("profile.x", "1x3x48x192,2x3x48x192,4x3x48x192");

  @TempDir Path cache;

  @BeforeEach
  void requireAGpu() {
    ProbeResult probe = TensorRtProbe.result();
    Assumptions.assumeTrue(probe.availability().isAvailable(), probe.availability().reason());
  }

  private TensorRtEngine engine() {
    return TensorRtEngine.create(EngineContext.of(2, Map.of("plan_cache", cache.toString())));
  }

  private static ByteBuffer golden(String name) throws Exception {
    byte[] bytes = Files.readAllBytes(MODEL_DIR.resolve("golden").resolve(name));
    return ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.LITTLE_ENDIAN).put(bytes).flip();
  }

  @Test
  void readsTheOnnxSignatureWithItsDynamicDimensions() throws Exception {
    try (TensorRtEngine engine = engine()) {
      assertThat(engine.inspect(MODEL_FILE).inputs()).containsExactly(TensorSpec.of("x", DataType.FP32, -1, 3, -1, -1));
    }
  }

  @Test
  void classifiesTheGoldenLinesLikeOnnxRuntimeAndCachesThePlan() throws Exception {
    Tensor input = Tensor.of("x", DataType.FP32, new long[] {2, 3, 48, 192}, golden("input_x.bin"));
    FloatBuffer expected = golden("output_softmax.bin").asFloatBuffer();
    try (TensorRtEngine engine = engine()) {
      for (int load = 0; load < 2; load++) {
        MemoryScope scope = MemoryScope.open();
        try (ModelInstance instance = engine.open(InstanceSpec.of("ocr_orientation", 1, MODEL_FILE, Device.gpu(0),
            0, PARAMETERS))) {
          RunResult result = instance.run(List.of(input), List.of(OUTPUT), RunContext.of(scope));
          Tensor output = result.outputs().get(0);
          assertThat(output.shape()).containsExactly(2, 2);
          for (int i = 0; i < 4; i++) {
            assertThat(output.floats().get(i)).as("element %d", i).isCloseTo(expected.get(i), within(1e-3f));
          }
        } finally {
          scope.release();
        }
        try (Stream<Path> plans = Files.list(cache)) {
          assertThat(plans.filter(p -> p.toString().endsWith(".plan"))).as("after load %d", load).hasSize(1);
        }
      }
    }
  }

  @Test
  void rejectsAShapeOutsideTheProfileNamingTheRange() throws Exception {
    Tensor tooWide = Tensor.ofFloats("x", new long[] {1, 3, 48, 200}, new float[3 * 48 * 200]);
    MemoryScope scope = MemoryScope.open();
    try (TensorRtEngine engine = engine();
        ModelInstance instance = engine.open(InstanceSpec.of("ocr_orientation", 1, MODEL_FILE, Device.gpu(0), 0,
            PARAMETERS))) {
      assertThatThrownBy(() -> instance.run(List.of(tooWide), List.of(OUTPUT), RunContext.of(scope)))
          .isInstanceOf(InvalidInputException.class)
          .hasMessageContaining("within x min [1,3,48,192] opt [2,3,48,192] max [4,3,48,192]");
    } finally {
      scope.release();
    }
  }
}
