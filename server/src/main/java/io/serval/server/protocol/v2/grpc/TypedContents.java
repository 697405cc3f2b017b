package io.serval.server.protocol.v2.grpc;

import com.google.protobuf.ByteString;
import io.serval.core.DataType;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.protocol.v2.InferTensorContents;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Reads an input sent in the typed {@code contents} fields of a gRPC request: each datatype has exactly one
 * field it may use (INT8..INT32 share {@code int_contents}, UINT8..UINT32 {@code uint_contents}); values are
 * range-checked for the narrower types.
 */
final class TypedContents {
  private TypedContents() {}

  static Tensor toTensor(String name, DataType type, long[] shape, InferTensorContents contents, MemoryScope memory) {
    String field = fieldFor(name, type);
    String used = usedField(contents);
    long expected = Shapes.elementCount(shape);
    if (used != null && !used.equals(field)) {
      throw new InvalidInputException("input '" + name + "' is " + type.wireName() + " but its data is in " + used
          + " (expected: " + field + ")");
    }
    int count = count(contents, field);
    if (count != expected) {
      throw new InvalidInputException("input '" + name + "': " + field + " has " + count + " elements (expected: "
          + expected + " for shape " + Shapes.format(shape) + ")");
    }
    if (type == DataType.BYTES) {
      long bytes = 0;
      for (ByteString element : contents.getBytesContentsList()) {
        bytes += Integer.BYTES + element.size();
      }
      ByteBuffer buffer = memory.allocate(bytes);
      for (ByteString element : contents.getBytesContentsList()) {
        buffer.putInt(element.size());
        element.copyTo(buffer);
      }
      return Tensor.of(name, type, shape, buffer.flip());
    }
    ByteBuffer buffer = memory.allocate((long) count * type.byteSize());
    for (int i = 0; i < count; i++) {
      switch (type) {
        case BOOL:
          buffer.put((byte) (contents.getBoolContents(i) ? 1 : 0));
          break;
        case FP32:
          buffer.putFloat(contents.getFp32Contents(i));
          break;
        case FP64:
          buffer.putDouble(contents.getFp64Contents(i));
          break;
        case INT64:
          buffer.putLong(contents.getInt64Contents(i));
          break;
        case UINT64:
          buffer.putLong(contents.getUint64Contents(i));
          break;
        case INT8:
          buffer.put((byte) checked(name, i, contents.getIntContents(i), type));
          break;
        case INT16:
          buffer.putShort((short) checked(name, i, contents.getIntContents(i), type));
          break;
        case INT32:
          buffer.putInt(contents.getIntContents(i));
          break;
        case UINT8:
          buffer.put((byte) checked(name, i, Integer.toUnsignedLong(contents.getUintContents(i)), type));
          break;
        case UINT16:
          buffer.putShort((short) checked(name, i, Integer.toUnsignedLong(contents.getUintContents(i)), type));
          break;
        case UINT32:
          buffer.putInt(contents.getUintContents(i));
          break;
        default:
          throw new IllegalStateException(type.wireName());
      }
    }
    buffer.flip();
    return Tensor.of(name, type, shape, buffer);
  }

  private static long checked(String name, int index, long value, DataType type) {
    if (value < type.minValue() || value > type.maxValue()) {
      throw new InvalidInputException("input '" + name + "': element " + index + " is " + value + " (expected: "
          + type.minValue() + " to " + type.maxValue() + " for " + type.wireName() + ")");
    }
    return value;
  }

  private static String fieldFor(String name, DataType type) {
    switch (type) {
      case BOOL:
        return "bool_contents";
      case INT8:
      case INT16:
      case INT32:
        return "int_contents";
      case INT64:
        return "int64_contents";
      case UINT8:
      case UINT16:
      case UINT32:
        return "uint_contents";
      case UINT64:
        return "uint64_contents";
      case FP32:
        return "fp32_contents";
      case FP64:
        return "fp64_contents";
      case BYTES:
        return "bytes_contents";
      default:
        throw new InvalidInputException("input '" + name + "' is " + type.wireName()
            + ", which has no typed contents field (expected: its data in raw_input_contents)");
    }
  }

  private static @Nullable String usedField(InferTensorContents contents) {
    String[] fields = {
      "bool_contents", "int_contents", "int64_contents", "uint_contents", "uint64_contents", "fp32_contents",
      "fp64_contents", "bytes_contents"
    };
    for (String field : fields) {
      if (count(contents, field) > 0) {
        return field;
      }
    }
    return null;
  }

  private static int count(InferTensorContents contents, String field) {
    switch (field) {
      case "bool_contents":
        return contents.getBoolContentsCount();
      case "int_contents":
        return contents.getIntContentsCount();
      case "int64_contents":
        return contents.getInt64ContentsCount();
      case "uint_contents":
        return contents.getUintContentsCount();
      case "uint64_contents":
        return contents.getUint64ContentsCount();
      case "fp32_contents":
        return contents.getFp32ContentsCount();
      case "fp64_contents":
        return contents.getFp64ContentsCount();
      default:
        return contents.getBytesContentsCount();
    }
  }
}
