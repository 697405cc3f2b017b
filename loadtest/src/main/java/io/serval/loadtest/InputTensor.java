package io.serval.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * One input tensor of a request, its data as the v2 protocol sends it raw: little-endian elements, or for {@code
 * BYTES} each element as a 4-byte little-endian length and its bytes (the same in gRPC's {@code
 * raw_input_contents} and HTTP's binary tensor extension).
 */
record InputTensor(String name, String datatype, long[] shape, byte[] data) {

  private static final Map<String, Integer> ELEMENT_BYTES = Map.ofEntries(
      Map.entry("BOOL", 1), Map.entry("UINT8", 1), Map.entry("INT8", 1),
      Map.entry("UINT16", 2), Map.entry("INT16", 2), Map.entry("FP16", 2), Map.entry("BF16", 2),
      Map.entry("UINT32", 4), Map.entry("INT32", 4), Map.entry("FP32", 4),
      Map.entry("UINT64", 8), Map.entry("INT64", 8), Map.entry("FP64", 8),
      Map.entry("BYTES", 0));

  /** Bytes per element of a fixed-size datatype, 0 for {@code BYTES}; an unknown datatype is refused. */
  static int elementBytes(String datatype) {
    Integer size = ELEMENT_BYTES.get(datatype);
    if (size == null) {
      throw new IllegalArgumentException("datatype " + datatype + " (expected one of " + ELEMENT_BYTES.keySet()
          + ")");
    }
    return size;
  }

  static long elementCount(long[] shape) {
    long count = 1;
    for (long dim : shape) {
      count = Math.multiplyExact(count, dim);
    }
    return count;
  }

  /** The elements as a flat JSON array, for servers driven without the binary tensor extension. */
  ArrayNode jsonData() {
    ArrayNode array = JsonNodeFactory.instance.arrayNode();
    ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    while (in.hasRemaining()) {
      switch (datatype) {
        case "BOOL" -> array.add(in.get() != 0);
        case "UINT8" -> array.add(in.get() & 0xff);
        case "INT8" -> array.add(in.get());
        case "UINT16" -> array.add(in.getShort() & 0xffff);
        case "INT16" -> array.add(in.getShort());
        case "FP16" -> array.add(halfToFloat(in.getShort()));
        case "BF16" -> array.add(Float.intBitsToFloat((in.getShort() & 0xffff) << 16));
        case "UINT32" -> array.add(in.getInt() & 0xffffffffL);
        case "INT32" -> array.add(in.getInt());
        case "FP32" -> array.add(in.getFloat());
        case "UINT64", "INT64" -> array.add(in.getLong());
        case "FP64" -> array.add(in.getDouble());
        case "BYTES" -> {
          byte[] element = new byte[in.getInt()];
          in.get(element);
          array.add(new String(element, StandardCharsets.UTF_8));
        }
        default -> throw new IllegalArgumentException("datatype " + datatype);
      }
    }
    return array;
  }

  /** Encodes JSON values (numbers, booleans or strings) as raw elements of {@code datatype}. */
  static byte[] fromJson(String datatype, JsonNode values, String what) {
    if (!values.isArray()) {
      throw new IllegalArgumentException(what + ": expected an array of values, got " + values.getNodeType());
    }
    if (datatype.equals("BYTES")) {
      byte[][] elements = new byte[values.size()][];
      int total = 0;
      for (int i = 0; i < values.size(); i++) {
        elements[i] = values.get(i).asText().getBytes(StandardCharsets.UTF_8);
        total += 4 + elements[i].length;
      }
      ByteBuffer out = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
      for (byte[] element : elements) {
        out.putInt(element.length).put(element);
      }
      return out.array();
    }
    ByteBuffer out = ByteBuffer.allocate(values.size() * elementBytes(datatype)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < values.size(); i++) {
      JsonNode value = values.get(i);
      if (!value.isNumber() && !value.isBoolean()) {
        throw new IllegalArgumentException(what + "[" + i + "]: " + value + " (expected: a " + datatype
            + " number)");
      }
      double d = value.isBoolean() ? (value.booleanValue() ? 1 : 0) : value.doubleValue();
      switch (datatype) {
        case "BOOL", "UINT8", "INT8" -> out.put((byte) d);
        case "UINT16", "INT16" -> out.putShort((short) d);
        case "FP16" -> out.putShort(floatToHalf((float) d));
        case "BF16" -> out.putShort((short) (Float.floatToIntBits((float) d) >>> 16));
        case "UINT32", "INT32" -> out.putInt((int) value.asLong());
        case "FP32" -> out.putFloat((float) d);
        case "UINT64", "INT64" -> out.putLong(value.asLong());
        case "FP64" -> out.putDouble(d);
        default -> throw new IllegalArgumentException("datatype " + datatype);
      }
    }
    return out.array();
  }

  @Override
  public String toString() {
    return name + ":" + datatype + Arrays.toString(shape);
  }

  /** IEEE half-precision conversions (Java 17 has no {@code Float.float16ToFloat}). */
  private static float halfToFloat(short half) {
    int bits = half & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  private static short floatToHalf(float value) {
    int bits = Float.floatToIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = ((bits >>> 23) & 0xff) - 112;
    int mantissa = bits & 0x7fffff;
    if (exponent >= 0x1f) {
      return (short) (sign | 0x7c00 | (Float.isNaN(value) ? 0x200 : 0));
    }
    if (exponent <= 0) {
      return (short) sign; // values below half's normal range become zero: fine for load
    }
    return (short) (sign | (exponent << 10) | (mantissa >>> 13));
  }
}
