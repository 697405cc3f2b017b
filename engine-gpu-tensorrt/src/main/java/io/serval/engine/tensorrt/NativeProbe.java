package io.serval.engine.tensorrt;

import static org.bytedeco.cuda.global.cudart.cudaDevAttrComputeCapabilityMajor;
import static org.bytedeco.cuda.global.cudart.cudaDevAttrComputeCapabilityMinor;
import static org.bytedeco.cuda.global.cudart.cudaDeviceGetAttribute;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;

/**
 * The probe's native half: asks the CUDA runtime for its devices and their compute capabilities, then TensorRT and
 * its ONNX parser for their versions. Its first call loads the natives, so only {@link TensorRtProbe} calls it, inside
 * a catch.
 */
final class NativeProbe {
  private NativeProbe() {}

  static ProbeResult probe() {
    int[] count = new int[1];
    int status = cudaGetDeviceCount(count);
    if (status != cudaSuccess) {
      return Cuda.failure("cudaGetDeviceCount", status);
    }
    if (count[0] == 0) {
      return ProbeResult.noDevice();
    }
    List<String> capabilities = new ArrayList<>();
    for (int device = 0; device < count[0]; device++) {
      int[] major = new int[1];
      int[] minor = new int[1];
      status = cudaDeviceGetAttribute(major, cudaDevAttrComputeCapabilityMajor, device);
      if (status == cudaSuccess) {
        status = cudaDeviceGetAttribute(minor, cudaDevAttrComputeCapabilityMinor, device);
      }
      if (status != cudaSuccess) {
        return Cuda.failure("cudaDeviceGetAttribute(compute capability, " + device + ")", status);
      }
      capabilities.add(major[0] + "." + minor[0]);
    }
    String version = nvinfer.getInferLibMajorVersion() + "." + nvinfer.getInferLibMinorVersion() + "."
        + nvinfer.getInferLibPatchVersion() + "." + nvinfer.getInferLibBuildVersion();
    // The parser is a library of its own; a class path with nvinfer but no nvonnxparser shows here, not on first load.
    nvonnxparser.getNvOnnxParserVersion();
    return ProbeResult.ready(version, capabilities);
  }
}
