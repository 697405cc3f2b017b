package io.serval.core;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Tensors from plain values as JSON and YAML trees give them: a scalar, or lists nested as deep as the tensor's
 * rank, of numbers ({@link Number}), booleans or strings. Used for the values a pipeline definition writes (a
 * node's {@code fallback}) and the inputs of the friendly JSON endpoint.
 *
 * <p>The shape is read from the nesting ({@code [[1, 2], [3, 4]]} is [2, 2]) and must fit {@code expected} (its
 * -1 dimensions match any size); a scalar fits any expected shape that can hold one element, and takes it (all
 * ones, [] for rank 0). Elements must be of the datatype's kind: numbers for the numeric types (integers within
 * the type's range, never fractions), {@code true}/{@code false} for BOOL, strings (stored as UTF-8) or {@code byte[]} for BYTES.
 * FP16 and BF16 are not written as literals. Every refusal is an {@link IllegalArgumentException} whose message
 * says what is wrong and what was expected, for the caller to prefix with where the value came from.
 */
public final class TensorValues {
  private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private TensorValues() {}

  /** A tensor named {@code name} of {@code type} holding {@code value}, in a heap buffer owned by the tensor. */
  public static Tensor of(String name, DataType type, long[] expected, Object value) {
    if (type == DataType.FP16 || type == DataType.BF16) {
      throw new IllegalArgumentException(type.wireName() + " values cannot be written as numbers (expected: a"
          + " tensor of FP32 or another datatype)");
    }
    List<Object> elements = new ArrayList<>();
    long[] shape = shape(value, expected, elements);
    if (type == DataType.BYTES) {
      List<byte[]> strings = new ArrayList<>(elements.size());
      for (int i = 0; i < elements.size(); i++) {
        Object element = elements.get(i);
        if (element instanceof byte[] raw) {
          strings.add(raw);
        } else if (element instanceof String text) {
          strings.add(text.getBytes(StandardCharsets.UTF_8));
        } else {
          throw elementError(i, element, "a string");
        }
      }
      return Tensor.ofBytes(name, shape, strings);
    }
    ByteBuffer buffer = Tensor.allocate((long) elements.size() * type.byteSize());
    for (int i = 0; i < elements.size(); i++) {
      put(buffer, type, i, elements.get(i));
    }
    return Tensor.of(name, type, shape, buffer.flip());
  }

  /** The shape of {@code value}, fitted to {@code expected}; its elements are added to {@code elements}. */
  private static long[] shape(Object value, long[] expected, List<Object> elements) {
    if (!(value instanceof List)) {
      for (long dim : expected) {
        if (dim != 1 && dim != Shapes.DYNAMIC) {
          throw new IllegalArgumentException("is one value " + describe(value) + " (expected: a tensor of shape "
              + Shapes.format(expected) + ")");
        }
      }
      elements.add(value);
      long[] ones = new long[expected.length];
      Arrays.fill(ones, 1);
      return ones;
    }
    List<Long> dims = new ArrayList<>();
    for (Object level = value; level instanceof List<?> list; level = list.isEmpty() ? null : list.get(0)) {
      dims.add((long) list.size());
    }
    long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
    boolean fits = shape.length == expected.length;
    for (int i = 0; fits && i < shape.length; i++) {
      fits = expected[i] == Shapes.DYNAMIC || expected[i] == shape[i];
    }
    if (!fits) {
      throw new IllegalArgumentException("has shape " + Shapes.format(shape) + " (expected: "
          + Shapes.format(expected) + ")");
    }
    flatten(value, 0, shape, elements);
    return shape;
  }

  private static void flatten(Object value, int depth, long[] shape, List<Object> elements) {
    if (depth == shape.length) {
      if (value instanceof List) {
        throw new IllegalArgumentException("nests lists deeper than its shape " + Shapes.format(shape)
            + " at element " + elements.size() + " (expected: every row alike)");
      }
      elements.add(value);
      return;
    }
    if (!(value instanceof List<?> list) || list.size() != shape[depth]) {
      throw new IllegalArgumentException("has rows of different lengths or depths at element " + elements.size()
          + " (expected: every row like the first, shape " + Shapes.format(shape) + ")");
    }
    for (Object item : list) {
      flatten(item, depth + 1, shape, elements);
    }
  }

  private static void put(ByteBuffer buffer, DataType type, int index, Object element) {
    switch (type) {
      case BOOL -> {
        if (!(element instanceof Boolean flag)) {
          throw elementError(index, element, "true or false");
        }
        buffer.put((byte) (flag ? 1 : 0));
      }
      case FP32, FP64 -> {
        if (!(element instanceof Number number) || !Double.isFinite(number.doubleValue())) {
          throw elementError(index, element, "a finite number");
        }
        if (type == DataType.FP32) {
          buffer.putFloat(number.floatValue());
        } else {
          buffer.putDouble(number.doubleValue());
        }
      }
      default -> {
        BigInteger integer = integer(element);
        BigInteger min = BigInteger.valueOf(type.minValue());
        BigInteger max = type == DataType.UINT64 ? UINT64_MAX : BigInteger.valueOf(type.maxValue());
        if (integer == null || integer.compareTo(min) < 0 || integer.compareTo(max) > 0) {
          throw elementError(index, element, "an integer from " + min + " to " + max + " for " + type.wireName());
        }
        long bits = integer.longValue();
        switch (type.byteSize()) {
          case 1 -> buffer.put((byte) bits);
          case 2 -> buffer.putShort((short) bits);
          case 4 -> buffer.putInt((int) bits);
          default -> buffer.putLong(bits);
        }
      }
    }
  }

  /** A whole number's value, or null for anything else (a fraction, a string, a boolean). */
  private static @Nullable BigInteger integer(Object element) {
    if (element instanceof Integer || element instanceof Long || element instanceof Short
        || element instanceof Byte) {
      return BigInteger.valueOf(((Number) element).longValue());
    }
    if (element instanceof BigInteger big) {
      return big;
    }
    if (element instanceof BigDecimal decimal && decimal.stripTrailingZeros().scale() <= 0) {
      return decimal.toBigIntegerExact();
    }
    return null;
  }

  private static IllegalArgumentException elementError(int index, Object element, String expected) {
    return new IllegalArgumentException("element " + index + " is " + describe(element) + " (expected: "
        + expected + ")");
  }

  private static String describe(Object value) {
    String text = value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
    return text.length() > 64 ? text.substring(0, 61) + "..." : text;
  }
}
