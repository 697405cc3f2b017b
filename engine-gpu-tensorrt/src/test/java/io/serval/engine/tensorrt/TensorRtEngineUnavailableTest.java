package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.engine.Device;
import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelLoadException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine as the server meets it on a machine without TensorRT: this module's test class path has Bytedeco's Java
 * classes but none of their natives, so the probe fails the way it fails on any host where they were not added.
 */
class TensorRtEngineUnavailableTest {
  private static InferenceEngine createThroughServiceLoader(Map<String, String> settings) {
    InferenceEngineProvider provider = ServiceLoader.load(InferenceEngineProvider.class).stream()
        .map(ServiceLoader.Provider::get)
        .filter(candidate -> candidate.name().equals("tensorrt"))
        .findFirst()
        .orElseThrow();
    assertThat(provider).isInstanceOf(TensorRtEngineProvider.class);
    assertThat(provider.threadPool()).as("no CPU pool").isEmpty();
    return provider.create(EngineContext.of(2, settings));
  }

  @Test
  void isListedAsUnavailableSayingWhichNativesAreMissingAndWhatToAdd() {
    try (InferenceEngine engine = createThroughServiceLoader(Map.of())) {
      assertThat(engine.name()).isEqualTo("tensorrt");
      assertThat(engine.availability().isAvailable()).isFalse();
      assertThat(engine.availability().reason())
          .startsWith("TensorRT engine unavailable: the CUDA natives could not be loaded (UnsatisfiedLinkError: no"
              + " jnicudart")
          .contains("org.bytedeco:tensorrt-platform-redist", "org.bytedeco:cuda-platform-redist");
      assertThat(engine.modelFileNames()).containsExactly("model.plan", "model.onnx");
      assertThat(engine.deviceKinds()).containsExactly(Device.Kind.GPU);
      assertThat(engine.threadingSummary()).isEqualTo(engine.availability().toString());
    }
  }

  @Test
  void aModelAskingForItFailsToLoadWithThatReason(@TempDir Path dir) throws Exception {
    Path onnx = Files.write(dir.resolve("model.onnx"), new byte[] {8, 1});
    try (InferenceEngine engine = createThroughServiceLoader(Map.of())) {
      String reason = engine.availability().reason();

      assertThatThrownBy(() -> engine.open(InstanceSpec.of("m", 1, onnx, Device.gpu(0), 0, Map.of())))
          .isInstanceOf(ModelLoadException.class)
          .hasMessage(reason);
      assertThatThrownBy(() -> engine.inspect(onnx))
          .isInstanceOf(ModelLoadException.class)
          .hasMessage(reason);
    }
  }

  @Test
  void aSecondEngineReportsTheSameReasonNotALaterClassInitialisationError() {
    try (InferenceEngine first = createThroughServiceLoader(Map.of());
        InferenceEngine second = createThroughServiceLoader(Map.of())) {
      assertThat(second.availability().reason()).isEqualTo(first.availability().reason());
    }
  }

  @Test
  void invalidEngineSettingsMakeItUnavailableNamingTheSetting() {
    try (InferenceEngine engine = createThroughServiceLoader(Map.of("workspace", "lots"))) {
      assertThat(engine.availability().isAvailable()).isFalse();
      assertThat(engine.availability().reason())
          .isEqualTo("TensorRT engine unavailable: engines.tensorrt.workspace: 'lots' is not a size (expected: bytes,"
              + " or a whole number with KiB, MiB, GiB or TiB, such as 512MiB)");
    }
  }
}
