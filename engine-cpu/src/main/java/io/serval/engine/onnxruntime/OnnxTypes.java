package io.serval.engine.onnxruntime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo.OnnxTensorType;
import io.serval.core.DataType;
import org.jspecify.annotations.Nullable;

/** Maps ONNX tensor element types to v2 data types, and v2 types to what ONNX Runtime's Java API can feed. */
final class OnnxTypes {
  private OnnxTypes() {}

  /** The v2 type of an ONNX element type, or {@code null} when v2 has none (complex, float8). */
  static @Nullable DataType toDataType(OnnxTensorType type) {
    switch (type) {
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
        return DataType.BOOL;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
        return DataType.UINT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16:
        return DataType.UINT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32:
        return DataType.UINT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64:
        return DataType.UINT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
        return DataType.INT8;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16:
        return DataType.INT16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
        return DataType.INT32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
        return DataType.INT64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
        return DataType.FP16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
        return DataType.FP32;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
        return DataType.FP64;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
        return DataType.BF16;
      case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING:
        return DataType.BYTES;
      default:
        return null;
    }
  }

  /**
   * The Java-API type that feeds a v2 type from a byte buffer, or {@code null} when ONNX Runtime's Java API has
   * none (the unsigned 16, 32 and 64-bit types) or the type is fed as strings ({@link DataType#BYTES}).
   */
  static @Nullable OnnxJavaType bufferType(DataType type) {
    switch (type) {
      case BOOL:
        return OnnxJavaType.BOOL;
      case UINT8:
        return OnnxJavaType.UINT8;
      case INT8:
        return OnnxJavaType.INT8;
      case INT16:
        return OnnxJavaType.INT16;
      case INT32:
        return OnnxJavaType.INT32;
      case INT64:
        return OnnxJavaType.INT64;
      case FP16:
        return OnnxJavaType.FLOAT16;
      case BF16:
        return OnnxJavaType.BFLOAT16;
      case FP32:
        return OnnxJavaType.FLOAT;
      case FP64:
        return OnnxJavaType.DOUBLE;
      default:
        return null;
    }
  }
}
