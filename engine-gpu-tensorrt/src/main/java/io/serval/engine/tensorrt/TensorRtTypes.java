package io.serval.engine.tensorrt;

import io.serval.core.DataType;
import org.bytedeco.tensorrt.global.nvinfer;
import org.jspecify.annotations.Nullable;

/**
 * Maps TensorRT's tensor types to v2 data types. Only Bytedeco's plain Java enum is touched here, which loads no
 * native library, so the mapping is tested without a GPU.
 */
final class TensorRtTypes {
  private TensorRtTypes() {}

  /**
   * The v2 type of a TensorRT type, or {@code null} for the types v2 cannot carry at a model's inputs and outputs
   * (FP8, INT4, FP4, E8M0).
   */
  static @Nullable DataType toDataType(nvinfer.DataType type) {
    // Enums that come back from native calls are new objects; intern() gives the constant a switch can match.
    switch (type.intern()) {
      case kFLOAT:
        return DataType.FP32;
      case kHALF:
        return DataType.FP16;
      case kBF16:
        return DataType.BF16;
      case kINT8:
        return DataType.INT8;
      case kUINT8:
        return DataType.UINT8;
      case kINT32:
        return DataType.INT32;
      case kINT64:
        return DataType.INT64;
      case kBOOL:
        return DataType.BOOL;
      default:
        return null;
    }
  }
}
