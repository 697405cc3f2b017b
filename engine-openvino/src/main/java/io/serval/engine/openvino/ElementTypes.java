package io.serval.engine.openvino;

import io.serval.core.DataType;
import org.jspecify.annotations.Nullable;

/**
 * Maps OpenVINO's element types ({@code ov_element_type_e}, numbered as in OpenVINO 2026.4, where it follows {@code
 * ov::element::Type_t} from {@code dynamic} = 0) to v2 data types and back. {@link OpenVinoRuntime} checks the
 * numbering when it loads the library.
 */
final class ElementTypes {
  /** {@code ov_element_type_e} names in code order, for messages. */
  private static final String[] NAMES = {
    "dynamic", "boolean", "bf16", "f16", "f32", "f64", "i4", "i8", "i16", "i32", "i64", "u1", "u2", "u3", "u4",
    "u6", "u8", "u16", "u32", "u64", "nf4", "f8e4m3", "f8e5m2", "string", "f4e2m1", "f8e8m0"
  };

  static final int BOOLEAN = 1;
  static final int BF16 = 2;
  static final int F16 = 3;
  static final int F32 = 4;
  static final int F64 = 5;
  static final int I8 = 7;
  static final int I16 = 8;
  static final int I32 = 9;
  static final int I64 = 10;
  static final int U8 = 16;
  static final int U16 = 17;
  static final int U32 = 18;
  static final int U64 = 19;
  static final int STRING = 23;

  private ElementTypes() {}

  /** The v2 type of an OpenVINO element type, or {@code null} when v2 has none (string, 4-bit, float8 ...). */
  static @Nullable DataType toDataType(int code) {
    switch (code) {
      case BOOLEAN:
        return DataType.BOOL;
      case BF16:
        return DataType.BF16;
      case F16:
        return DataType.FP16;
      case F32:
        return DataType.FP32;
      case F64:
        return DataType.FP64;
      case I8:
        return DataType.INT8;
      case I16:
        return DataType.INT16;
      case I32:
        return DataType.INT32;
      case I64:
        return DataType.INT64;
      case U8:
        return DataType.UINT8;
      case U16:
        return DataType.UINT16;
      case U32:
        return DataType.UINT32;
      case U64:
        return DataType.UINT64;
      default:
        return null;
    }
  }

  /** The OpenVINO element type of a fixed-size v2 type. */
  static int fromDataType(DataType type) {
    switch (type) {
      case BOOL:
        return BOOLEAN;
      case BF16:
        return BF16;
      case FP16:
        return F16;
      case FP32:
        return F32;
      case FP64:
        return F64;
      case INT8:
        return I8;
      case INT16:
        return I16;
      case INT32:
        return I32;
      case INT64:
        return I64;
      case UINT8:
        return U8;
      case UINT16:
        return U16;
      case UINT32:
        return U32;
      case UINT64:
        return U64;
      default:
        throw new IllegalArgumentException(type.wireName() + " has no OpenVINO element type this engine feeds");
    }
  }

  /** OpenVINO's name of an element type ({@code f32}, {@code string}), or its code when unknown. */
  static String name(int code) {
    return code >= 0 && code < NAMES.length ? NAMES[code] : "element type #" + code;
  }
}
