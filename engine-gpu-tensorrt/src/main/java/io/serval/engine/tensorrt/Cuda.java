package io.serval.engine.tensorrt;

import static org.bytedeco.cuda.global.cudart.cudaGetErrorName;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import io.serval.core.InternalException;
import org.bytedeco.javacpp.BytePointer;

/** Turns CUDA runtime status codes into exceptions and messages that carry the code's name and description. */
final class Cuda {
  private Cuda() {}

  /** Throws {@link InternalException} naming {@code call} when {@code status} is not success. */
  static void check(int status, String call) {
    if (status != cudaSuccess) {
      throw new InternalException(call + " failed with CUDA error " + status + " (" + name(status) + ": "
          + description(status) + ")");
    }
  }

  /** The probe result for a failed call. */
  static ProbeResult failure(String call, int status) {
    return ProbeResult.cudaError(call, status, name(status), description(status));
  }

  static String name(int status) {
    BytePointer name = cudaGetErrorName(status);
    return name == null ? "unknown" : name.getString();
  }

  static String description(int status) {
    BytePointer description = cudaGetErrorString(status);
    return description == null ? "unknown" : description.getString();
  }
}
