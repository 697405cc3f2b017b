package io.serval.engine.arm;

import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.ModelSignature;
import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Checks that this module's ONNX Runtime (the Maven jar's version) loads every built-in model converted to ORT format
 * by ONNX Runtime's Python package (the venv's version, newer) and gives the outputs of its {@code model.onnx}.
 */
class OrtFormatTest {
  private static final Path MODELS = Path.of("..", "models").toAbsolutePath().normalize();
  private static final byte[] ORT_FILE_IDENTIFIER = "ORTM".getBytes(StandardCharsets.US_ASCII);

  private static Path ortModels;
  private static InferenceEngine engine;

  @BeforeAll
  static void convertTheBuiltInModels() throws Exception {
    ortModels = OrtModels.convert();
    engine = new ArmEngineProvider().create(EngineContext.of(BuiltInModels.CPU_THREADS, Map.of()));
  }

  @AfterAll
  static void closeEngine() {
    if (engine != null) {
      engine.close();
    }
  }

  @ParameterizedTest
  @FieldSource("io.serval.engine.arm.BuiltInModels#NAMES")
  void ortFileFromPythonLoadsAndGivesTheOnnxOutputs(String name) throws Exception {
    Path ort = ortModels.resolve(name).resolve("1").resolve("model.ort");
    Path onnx = MODELS.resolve(name).resolve("1").resolve("model.onnx");
    byte[] header = Arrays.copyOfRange(Files.readAllBytes(ort), 4, 8);
    assertThat(header).as("flatbuffer identifier of %s", ort).isEqualTo(ORT_FILE_IDENTIFIER);

    ModelSignature fromOrt = engine.inspect(ort);
    ModelSignature fromOnnx = engine.inspect(onnx);
    assertThat(fromOrt.inputs()).containsExactlyElementsOf(fromOnnx.inputs());
    assertThat(fromOrt.outputs()).containsExactlyElementsOf(fromOnnx.outputs());
    double max =
        BuiltInModels.maxDifference(
            name, BuiltInModels.run(engine, MODELS, name, onnx), BuiltInModels.run(engine, MODELS, name, ort));
    System.out.printf("%-16s max |model.ort - model.onnx| = %.3g%n", name, max);
    assertThat(max).isLessThanOrEqualTo(1e-5);
  }
}
