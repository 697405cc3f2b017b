package io.serval.engine.arm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;
import io.serval.engine.onnxruntime.OnnxRuntimeEngine;
import io.serval.engine.onnxruntime.OnnxRuntimeProfile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The {@code arm} engine on this machine: its profile, its share of the process's pool, and the golden outputs. */
class ArmEngineTest {
  private static final Path MODELS = Path.of("..", "models");

  private static OnnxRuntimeEngine engine;

  @BeforeAll
  static void createEngine() {
    engine = (OnnxRuntimeEngine) new ArmEngineProvider().create(EngineContext.of(BuiltInModels.CPU_THREADS, Map.of()));
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  @Test
  void isFoundByServiceLoaderNextToOnnxRuntime() {
    assertThat(
            ServiceLoader.load(InferenceEngineProvider.class).stream()
                .map(provider -> provider.get().name())
                .collect(Collectors.toList()))
        .contains("arm", "onnxruntime");
  }

  @Test
  void usesOneThreadPerPhysicalCoreWithinTheBudget() {
    assertThat(ArmEngineProvider.profile(8, 4)).isEqualTo(OnnxRuntimeProfile.edge(4));
    assertThat(ArmEngineProvider.profile(2, 4)).isEqualTo(OnnxRuntimeProfile.edge(2));
    assertThat(ArmEngineProvider.profile(1, 1)).isEqualTo(OnnxRuntimeProfile.edge(1));
  }

  @Test
  void isOnnxRuntimeWithTheEdgeProfile() {
    assertThat(engine.availability().isAvailable()).as(engine.availability().toString()).isTrue();
    assertThat(engine.name()).isEqualTo("arm");
    assertThat(engine.profile())
        .isEqualTo(OnnxRuntimeProfile.edge(Math.min(BuiltInModels.CPU_THREADS, PhysicalCores.onThisMachine())));
    assertThat(engine.modelFileNames()).containsExactly("model.ort", "model.onnx");
    assertThat(engine.threadingSummary())
        .startsWith(engine.profile().intraOpThreads() + " intra-op thread")
        .doesNotContain("spinning)")
        .contains("CPU memory arena off, memory patterns off");
  }

  @Test
  void usesXnnpackExactlyWhenTheRuntimeOffersIt() {
    boolean offered = OrtEnvironment.getAvailableProviders().contains(OrtProvider.XNNPACK);

    assertThat(engine.usesXnnpack()).isEqualTo(offered);
    assertThat(engine.threadingSummary())
        .endsWith(offered ? "; XNNPACK in use" : "; XNNPACK not in this ONNX Runtime build, CPU provider only");
  }

  @Test
  void anEngineCreatedLaterSharesThePoolAndSaysWhoSizedIt() {
    InferenceEngine server = OnnxRuntimeEngine.create(EngineContext.of(BuiltInModels.CPU_THREADS, Map.of()));

    assertThat(server.availability().isAvailable()).isTrue();
    assertThat(server.threadingSummary())
        .startsWith(engine.profile().intraOpThreads() + " intra-op thread")
        .contains(", sized by engine arm (one pool per process; this engine asked for 2, no spinning)");
    assertThat(engine.threadingSummary()).doesNotContain("sized by");
  }

  @Test
  void anEngineAskingForAnotherPoolSizeSharesThePoolAndSaysSo() {
    InferenceEngine small =
        OnnxRuntimeEngine.create("small", EngineContext.of(1, Map.of()), OnnxRuntimeProfile.edge(1));

    assertThat(small.availability().isAvailable()).isTrue();
    assertThat(small.threadingSummary()).startsWith(engine.profile().intraOpThreads() + " intra-op thread")
        .contains(", sized by engine arm (one pool per process; this engine asked for 1, no spinning)");
  }

  @Test
  void givesTheGoldenOutputsOfOnnxRuntimeInPython() throws Exception {
    Map<String, float[]> digits =
        BuiltInModels.run(engine, MODELS, "digits", MODELS.resolve("digits/1/model.onnx"));
    Map<String, float[]> orientation =
        BuiltInModels.run(engine, MODELS, "ocr_orientation", MODELS.resolve("ocr_orientation/1/model.onnx"));

    assertClose(digits.get("probabilities"), golden("digits", "output_probabilities.bin"));
    assertClose(orientation.get("softmax_0.tmp_0"), golden("ocr_orientation", "output_softmax.bin"));
  }

  private static void assertClose(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i], within(1e-5f));
    }
  }

  private static float[] golden(String model, String file) throws IOException {
    ByteBuffer bytes =
        ByteBuffer.wrap(Files.readAllBytes(MODELS.resolve(model).resolve("golden").resolve(file)))
            .order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[bytes.remaining() / Float.BYTES];
    bytes.asFloatBuffer().get(values);
    return values;
  }
}
