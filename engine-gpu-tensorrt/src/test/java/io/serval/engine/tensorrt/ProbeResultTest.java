package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ProbeResultTest {
  @Test
  void aMissingCudaLibraryIsNamedWithTheArtifactsToAdd() {
    ProbeResult result = ProbeResult.nativesMissing(
        new UnsatisfiedLinkError("no jnicudart in java.library.path: /usr/lib"));

    assertThat(result.availability().isAvailable()).isFalse();
    assertThat(result.availability().reason())
        .startsWith("TensorRT engine unavailable: the CUDA natives could not be loaded (UnsatisfiedLinkError: no"
            + " jnicudart in java.library.path: /usr/lib): add org.bytedeco:tensorrt-platform-redist and"
            + " org.bytedeco:cuda-platform-redist");
  }

  @Test
  void aMissingTensorRtLibraryBehindAnInitializerErrorIsNamed() {
    ProbeResult result = ProbeResult.nativesMissing(new NoClassDefFoundError("Could not initialize class nvinfer")
        .initCause(new ExceptionInInitializerError(new UnsatisfiedLinkError("no jninvinfer in java.library.path"))));

    assertThat(result.availability().reason())
        .contains("the TensorRT natives could not be loaded (UnsatisfiedLinkError: no jninvinfer in");
  }

  @Test
  void aLinkageErrorWithoutALibraryNameBlamesBoth() {
    ProbeResult result = ProbeResult.nativesMissing(new NoClassDefFoundError("org/bytedeco/javacpp/Loader"));

    assertThat(result.availability().reason())
        .contains("the TensorRT and CUDA natives could not be loaded (NoClassDefFoundError: org/bytedeco/javacpp/Loader)")
        .contains(ProbeResult.NATIVES_HINT);
  }

  @Test
  void anOldOrMissingDriverIsReportedWithItsCudaErrorAndAHint() {
    ProbeResult result = ProbeResult.cudaError("cudaGetDeviceCount", 35, "cudaErrorInsufficientDriver",
        "CUDA driver version is insufficient for CUDA runtime version");

    assertThat(result.availability().reason())
        .isEqualTo("TensorRT engine unavailable: cudaGetDeviceCount failed with CUDA error 35"
            + " (cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime version): the"
            + " NVIDIA driver is missing or older than this CUDA runtime needs; install or update the driver, and in"
            + " a container run with the NVIDIA container toolkit (--gpus all)");
  }

  @Test
  void noVisibleDeviceIsReportedWithWhereToLook() {
    assertThat(ProbeResult.cudaError("cudaGetDeviceCount", 100, "cudaErrorNoDevice", "no CUDA-capable device is"
        + " detected").availability().reason())
        .contains("CUDA error 100 (cudaErrorNoDevice: no CUDA-capable device is detected)")
        .contains("CUDA_VISIBLE_DEVICES");
    assertThat(ProbeResult.noDevice().availability().reason())
        .isEqualTo("TensorRT engine unavailable: the CUDA driver reports no GPU on this machine (cudaGetDeviceCount:"
            + " 0)");
  }

  @Test
  void aReadyProbeReportsTheVersionAndEachDevicesComputeCapability() {
    ProbeResult result = ProbeResult.ready("11.2.0.5", List.of("8.6", "9.0"));

    assertThat(result.availability().isAvailable()).isTrue();
    assertThat(result.tensorRtVersion()).isEqualTo("11.2.0.5");
    assertThat(result.deviceCount()).isEqualTo(2);
    assertThat(result.computeCapability(1)).isEqualTo("9.0");
    assertThat(result).hasToString("TensorRT 11.2.0.5 on 2 GPUs (compute capability [8.6, 9.0])");
    assertThatThrownBy(() -> ProbeResult.ready("11.2.0.5", List.of()))
        .hasMessage("computeCapabilities: [] (expected: at least one device)");
  }
}
