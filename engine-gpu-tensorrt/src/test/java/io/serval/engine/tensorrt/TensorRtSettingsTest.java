package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.engine.Device;
import io.serval.engine.InstanceSpec;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorRtSettingsTest {
  @Test
  void theServersMaxBatchSizeSizesTheProfileUnlessAParameterSetsIt() {
    InstanceSpec spec = InstanceSpec.of("m", 1, Path.of("model.onnx"), Device.gpu(0), 0, Map.of());

    assertThat(TensorRtSettings.of(Map.of(), TensorRtEngine.withServerBatch(spec.withMaxBatchSize(8))).maxBatchSize())
        .isEqualTo(8);
    assertThat(TensorRtSettings.of(Map.of(), TensorRtEngine.withServerBatch(spec)).maxBatchSize()).isZero();
    InstanceSpec own = InstanceSpec.of("m", 1, Path.of("model.onnx"), Device.gpu(0), 0, Map.of("max_batch_size", "4"));
    assertThat(TensorRtSettings.of(Map.of(), TensorRtEngine.withServerBatch(own.withMaxBatchSize(8))).maxBatchSize())
        .isEqualTo(4);
  }

  @Test
  void defaultsToFp32AOneGibWorkspaceAndTheUserCache() {
    TensorRtSettings settings = TensorRtSettings.of(Map.of(), Map.of());

    assertThat(settings.precision()).isEqualTo(Precision.FP32);
    assertThat(settings.workspaceBytes()).isEqualTo(1L << 30);
    assertThat(settings.planCache())
        .isEqualTo(Path.of(System.getProperty("user.home"), ".cache", "serval", "tensorrt"));
    assertThat(settings.maxBatchSize()).isZero();
    assertThat(settings.profiles()).isEmpty();
    assertThat(settings.buildParameters()).isEmpty();
    assertThat(settings.canonicalFlags()).isEqualTo("precision=fp32;workspace=1073741824");
  }

  @Test
  void modelParametersOverrideEngineSettings() {
    TensorRtSettings settings = TensorRtSettings.of(
        Map.of("precision", "fp32", "workspace", "2GiB", "plan_cache", "/var/cache/engine"),
        Map.of("precision", "TF32", "workspace", "256MiB", "plan_cache", "/tmp/model-cache"));

    assertThat(settings.precision()).isEqualTo(Precision.TF32);
    assertThat(settings.workspaceBytes()).isEqualTo(256L << 20);
    assertThat(settings.planCache()).isEqualTo(Path.of("/tmp/model-cache"));
    assertThat(settings.buildParameters()).containsExactly("precision", "workspace");
    assertThat(settings.canonicalFlags()).isEqualTo("precision=tf32;workspace=268435456");
  }

  @Test
  void engineSettingsApplyWhenTheModelSaysNothing() {
    TensorRtSettings settings = TensorRtSettings.of(Map.of("workspace", "536870912", "plan_cache", "/srv/plans"),
        Map.of());

    assertThat(settings.workspaceBytes()).isEqualTo(512L << 20);
    assertThat(settings.planCache()).isEqualTo(Path.of("/srv/plans"));
  }

  @Test
  void rejectsFp16WithTheWayToServeAnFp16Model() {
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("precision", "fp16")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("parameters.precision: 'fp16' (expected: fp32 or tf32;")
        .hasMessageContaining("strongly typed")
        .hasMessageContaining("ModelOpt AutoCast");
  }

  @Test
  void rejectsInt8WithTheWayToServeAQuantisedModel() {
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of("precision", "int8"), Map.of()))
        .hasMessageStartingWith("engines.tensorrt.precision: 'int8' (expected: fp32 or tf32;")
        .hasMessageContaining("Q/DQ");
  }

  @Test
  void rejectsACalibrationCacheBecauseTensorRt11HasNoCalibration() {
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("calibration_cache", "/models/x/calib.cache")))
        .hasMessageStartingWith("parameters.calibration_cache: TensorRT 11 has no INT8 calibration");
  }

  @Test
  void rejectsAnUnknownPrecision() {
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("precision", "fast")))
        .hasMessage("parameters.precision: 'fast' (expected: fp32 or tf32)");
  }

  @Test
  void readsWorkspaceSizesInBytesAndBinaryUnits() {
    assertThat(TensorRtSettings.parseSize("w", "1048576")).isEqualTo(1L << 20);
    assertThat(TensorRtSettings.parseSize("w", "64KiB")).isEqualTo(64L << 10);
    assertThat(TensorRtSettings.parseSize("w", "512 MiB")).isEqualTo(512L << 20);
    assertThat(TensorRtSettings.parseSize("w", "3GiB")).isEqualTo(3L << 30);
    assertThat(TensorRtSettings.parseSize("w", "1TiB")).isEqualTo(1L << 40);
  }

  @Test
  void rejectsSizesThatAreNotWholeBinaryUnits() {
    for (String value : new String[] {"512MB", "1.5GiB", "-1", "GiB", "", "lots"}) {
      assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("workspace", value)))
          .as(value)
          .hasMessage("parameters.workspace: '" + value + "' is not a size (expected: bytes, or a whole number with"
              + " KiB, MiB, GiB or TiB, such as 512MiB)");
    }
  }

  @Test
  void rejectsAWorkspaceOutsideOneMibToOneTib() {
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("workspace", "512KiB")))
        .hasMessage("parameters.workspace: '512KiB' is 524288 bytes (expected: 1MiB to 1TiB)");
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of("workspace", "2TiB"), Map.of()))
        .hasMessage("engines.tensorrt.workspace: '2TiB' is 2199023255552 bytes (expected: 1MiB to 1TiB)");
    assertThat(TensorRtSettings.of(Map.of(), Map.of("workspace", "1MiB")).workspaceBytes()).isEqualTo(1L << 20);
  }

  @Test
  void readsMaxBatchSizeWithinBounds() {
    assertThat(TensorRtSettings.of(Map.of(), Map.of("max_batch_size", "8")).maxBatchSize()).isEqualTo(8);
    for (String value : new String[] {"0", "-4", "65537", "eight", "2.5"}) {
      assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("max_batch_size", value)))
          .as(value)
          .hasMessage("parameters.max_batch_size: '" + value + "' (expected: 1 to 65536)");
    }
  }

  @Test
  void readsExplicitProfilesByInputName() {
    TensorRtSettings settings = TensorRtSettings.of(Map.of(),
        Map.of("profile.x", "1x3x32x32, 4x3x224x224, 8x3x640x640", "max_batch_size", "8"));

    assertThat(settings.profiles()).containsOnlyKeys("x");
    assertThat(settings.profiles().get("x").canonical()).isEqualTo("x:1x3x32x32/4x3x224x224/8x3x640x640");
    assertThat(settings.buildParameters()).containsExactly("max_batch_size", "profile.x");
  }

  @Test
  void namesTheProfileParameterWhoseShapesAreWrong() {
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("profile.x", "1x3x32x32,8x3x224x224")))
        .hasMessageStartingWith("parameters.profile.x: '1x3x32x32,8x3x224x224' has 2 shapes (expected: min,opt,max");
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("profile.x", "1x3,8x3,4x3")))
        .hasMessage("parameters.profile.x: input 'x': dimension 0 is 1, 8, 4 in min, opt and max (expected: 0 <= min"
            + " <= opt <= max)");
  }

  @Test
  void rejectsUnknownParametersListingTheKnownOnes() {
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of(), Map.of("max_batch", "8")))
        .hasMessage("parameters.max_batch: unknown parameter of the tensorrt engine (expected one of: max_batch_size,"
            + " plan_cache, precision, profile.<input>, workspace)");
  }

  @Test
  void keepsModelOnlyParametersOutOfTheEngineSettings() {
    assertThatThrownBy(() -> TensorRtSettings.of(Map.of("max_batch_size", "8"), Map.of()))
        .hasMessage("engines.tensorrt.max_batch_size: unknown setting (expected one of: plan_cache, precision,"
            + " workspace; max_batch_size and profile.<input> are model parameters)");
  }
}
