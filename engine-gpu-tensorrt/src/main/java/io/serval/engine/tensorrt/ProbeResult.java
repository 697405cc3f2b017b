package io.serval.engine.tensorrt;

import io.serval.engine.EngineAvailability;
import java.util.List;
import java.util.Locale;

/**
 * What probing the natives found: TensorRT's version and each CUDA device's compute capability, or why the engine
 * cannot run here, in words that say what to add or fix.
 */
final class ProbeResult {
  static final String NATIVES_HINT = "add org.bytedeco:tensorrt-platform-redist and org.bytedeco:cuda-platform-redist"
      + " (TensorRT and CUDA bundled), or org.bytedeco:tensorrt-platform and org.bytedeco:cuda-platform with TensorRT"
      + " and CUDA installed on the host, to the class path; see engine-gpu-tensorrt/README.md";

  private final EngineAvailability availability;
  private final String tensorRtVersion;
  private final List<String> computeCapabilities;

  private ProbeResult(EngineAvailability availability, String tensorRtVersion, List<String> computeCapabilities) {
    this.availability = availability;
    this.tensorRtVersion = tensorRtVersion;
    this.computeCapabilities = List.copyOf(computeCapabilities);
  }

  /** TensorRT {@code version} runs, on devices with these compute capabilities ({@code "8.6"}), by device index. */
  static ProbeResult ready(String version, List<String> computeCapabilities) {
    if (computeCapabilities.isEmpty()) {
      throw new IllegalArgumentException("computeCapabilities: [] (expected: at least one device)");
    }
    return new ProbeResult(EngineAvailability.available(), version, computeCapabilities);
  }

  /** Loading the natives failed: {@code failure} is what the JVM threw (UnsatisfiedLinkError and its kin). */
  static ProbeResult nativesMissing(Throwable failure) {
    Throwable cause = failure;
    while (cause.getCause() != null && !(cause instanceof UnsatisfiedLinkError)) {
      cause = cause.getCause();
    }
    String detail = cause.getClass().getSimpleName() + ": " + shorten(String.valueOf(cause.getMessage()));
    String lower = detail.toLowerCase(Locale.ROOT);
    String what = lower.contains("nvinfer") || lower.contains("nvonnxparser") ? "the TensorRT natives"
        : lower.contains("cuda") || lower.contains("cublas") || lower.contains("cudnn") ? "the CUDA natives"
        : "the TensorRT and CUDA natives";
    return unavailable(what + " could not be loaded (" + detail + "): " + NATIVES_HINT);
  }

  /** A CUDA runtime call failed with {@code code} ({@code name}: {@code description}). */
  static ProbeResult cudaError(String call, int code, String name, String description) {
    String hint;
    switch (code) {
      case 35:
        hint = "the NVIDIA driver is missing or older than this CUDA runtime needs; install or update the driver, and"
            + " in a container run with the NVIDIA container toolkit (--gpus all)";
        break;
      case 100:
        hint = "no CUDA-capable GPU is visible to this process (check CUDA_VISIBLE_DEVICES, and --gpus in a"
            + " container)";
        break;
      default:
        hint = "the CUDA driver could not start";
        break;
    }
    return unavailable(call + " failed with CUDA error " + code + " (" + name + ": " + description + "): " + hint);
  }

  /** The driver answered, but there is no CUDA device. */
  static ProbeResult noDevice() {
    return unavailable("the CUDA driver reports no GPU on this machine (cudaGetDeviceCount: 0)");
  }

  /** Anything else that stops the engine, in a sentence. */
  static ProbeResult unavailable(String reason) {
    return new ProbeResult(EngineAvailability.unavailable("TensorRT engine unavailable: " + reason), "", List.of());
  }

  private static String shorten(String message) {
    return message.length() <= 200 ? message : message.substring(0, 200) + "...";
  }

  EngineAvailability availability() {
    return availability;
  }

  /** TensorRT's version ({@code 11.2.0.5}); empty when unavailable. */
  String tensorRtVersion() {
    return tensorRtVersion;
  }

  /** The number of CUDA devices. */
  int deviceCount() {
    return computeCapabilities.size();
  }

  /** The compute capability of device {@code index} ({@code "8.6"}). */
  String computeCapability(int index) {
    return computeCapabilities.get(index);
  }

  @Override
  public String toString() {
    return availability.isAvailable()
        ? "TensorRT " + tensorRtVersion + " on " + computeCapabilities.size() + " GPU"
            + (computeCapabilities.size() == 1 ? "" : "s") + " (compute capability " + computeCapabilities + ")"
        : availability.reason();
  }
}
