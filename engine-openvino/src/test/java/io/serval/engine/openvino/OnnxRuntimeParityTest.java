package io.serval.engine.openvino;

import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import io.serval.engine.Device;
import io.serval.engine.EngineContext;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.RunContext;
import io.serval.engine.onnxruntime.OnnxRuntimeEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every built-in model gives the same outputs and signature through OpenVINO as through ONNX Runtime, from its ONNX
 * file and, for one model, from an OpenVINO IR converted by the wheel's {@code ovc}.
 */
class OnnxRuntimeParityTest {
  private static final double TOLERANCE = 1e-4;
  private static final Path IR_DIR = Path.of("target", "ir", "ocr_orientation");

  private static OpenVinoEngine openvino;
  private static OnnxRuntimeEngine onnxruntime;

  @BeforeAll
  static void createEngines() throws Exception {
    openvino = TestVenv.startedEngine();
    onnxruntime = OnnxRuntimeEngine.create(EngineContext.of(2, Map.of()));
    assertThat(onnxruntime.availability().isAvailable()).as(onnxruntime.availability().toString()).isTrue();
  }

  @AfterAll
  static void closeEngines() {
    openvino.close();
    onnxruntime.close();
  }

  @ParameterizedTest
  @EnumSource(BuiltInModels.class)
  void outputsMatchOnnxRuntime(BuiltInModels model) throws Exception {
    double difference = compare(model, model.onnx());

    assertThat(difference).as("largest |openvino - onnxruntime| of %s", model.name).isLessThanOrEqualTo(TOLERANCE);
  }

  @ParameterizedTest
  @EnumSource(BuiltInModels.class)
  void signatureMatchesOnnxRuntimeWithDynamicDimensions(BuiltInModels model) throws Exception {
    assertThat(openvino.inspect(model.onnx()).inputs()).isEqualTo(onnxruntime.inspect(model.onnx()).inputs());
    assertThat(openvino.inspect(model.onnx()).outputs()).isEqualTo(onnxruntime.inspect(model.onnx()).outputs());
  }

  @Test
  void anIrConvertedByOvcGivesTheSameOutputsAsTheOnnxModel() throws Exception {
    Path xml = IR_DIR.resolve("model.xml");
    Path onnx = BuiltInModels.OCR_ORIENTATION.onnx();
    Files.createDirectories(IR_DIR);
    // Full-precision weights: ovc compresses them to f16 by default, which would not be the same model.
    TestVenv.run(
        List.of(TestVenv.bin("ovc"), onnx.toString(), "--output_model", xml.toString(), "--compress_to_fp16=False"),
        600);

    assertThat(openvino.inspect(xml).inputs()).isEqualTo(onnxruntime.inspect(onnx).inputs());
    double difference = compare(BuiltInModels.OCR_ORIENTATION, xml);

    assertThat(difference).as("largest |openvino IR - onnxruntime|").isLessThanOrEqualTo(TOLERANCE);
  }

  /** Runs the model's inputs through both engines and returns the largest absolute difference of any output value. */
  private static double compare(BuiltInModels model, Path openvinoFile) throws Exception {
    List<Tensor> inputs = model.inputs();
    MemoryScope scope = MemoryScope.open();
    try (ModelInstance expected = onnxruntime.open(spec(model, model.onnx()));
        ModelInstance actual = openvino.open(spec(model, openvinoFile))) {
      Tensor want = run(expected, inputs, model.output, scope);
      Tensor got = run(actual, inputs, model.output, scope);

      assertThat(got.dataType()).isEqualTo(want.dataType());
      assertThat(got.shape()).isEqualTo(want.shape());
      double largest = 0;
      for (long i = 0; i < want.elementCount(); i++) {
        double difference = Math.abs(got.numberAt(i).doubleValue() - want.numberAt(i).doubleValue());
        largest = Math.max(largest, difference);
      }
      System.out.printf(
          "openvino vs onnxruntime, %s (%s): %d values, largest difference %.3e%n",
          model.name, openvinoFile.getFileName(), want.elementCount(), largest);
      return largest;
    } finally {
      scope.release();
    }
  }

  private static Tensor run(ModelInstance instance, List<Tensor> inputs, String output, MemoryScope scope) {
    return instance.run(inputs, List.of(output), RunContext.of(scope)).outputs().get(0);
  }

  private static InstanceSpec spec(BuiltInModels model, Path file) {
    return InstanceSpec.of(model.name, 1, file, Device.cpu(), 0, Map.of());
  }
}
