package io.serval.client;

import io.serval.client.internal.HalfPrecision;
import io.serval.core.DataType;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A named, typed, shaped tensor sent to or received from a server: its elements in one little-endian buffer in
 * the v2 binary layout (packed, BOOL one byte, each BYTES element a 4-byte length then its bytes).
 *
 * <p>The typed factories copy the values once, into the buffer the transport sends as it is (gRPC {@code
 * raw_input_contents}, or a block after the HTTP JSON header); they check the shape against the number of values
 * and name the tensor when they do not agree. Received tensors are views of the response's own bytes: nothing is
 * copied until an accessor ({@link #toFloatArray()} ...) makes an array. FP16 and BF16 tensors are built from and
 * read as {@code float}s, rounded to nearest even as numpy does.
 *
 * <pre>{@code
 * InferTensor x = InferTensor.ofFloats("x", new long[] {1, 4}, new float[] {1, 2, 3, 4});
 * InferTensor text = InferTensor.ofStrings("text", new long[] {1}, List.of("hello"));
 * float[] y = result.output("y").toFloatArray();
 * }</pre>
 */
public final class InferTensor {
  private final String name;
  private final DataType dataType;
  private final long[] shape;
  private final ByteBuffer data;
  private final int elementCount;

  private InferTensor(String name, DataType dataType, long[] shape, ByteBuffer data, int elementCount) {
    this.name = name;
    this.dataType = dataType;
    this.shape = shape;
    this.data = data;
    this.elementCount = elementCount;
  }

  /**
   * A tensor over {@code data} from its position to its limit, not copied (the caller must not change it
   * afterwards).
   *
   * @throws IllegalArgumentException when the byte length does not fit the shape and datatype, or a BYTES
   *     buffer is malformed
   */
  public static InferTensor of(String name, DataType dataType, long[] shape, ByteBuffer data) {
    long[] dims = checkedShape(name, shape);
    int count = elementCount(name, dims);
    ByteBuffer view = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (dataType.isFixedSize()) {
      long expected = (long) count * dataType.byteSize();
      if (view.remaining() != expected) {
        throw new IllegalArgumentException("tensor '" + name + "': " + view.remaining() + " bytes of "
            + dataType.wireName() + " data for shape " + Shapes.format(dims) + " (expected: " + expected + " bytes)");
      }
    } else {
      int elements = countBytesElements(name, view);
      if (elements != count) {
        throw new IllegalArgumentException("tensor '" + name + "': " + elements + " BYTES elements for shape "
            + Shapes.format(dims) + " (expected: " + count + ")");
      }
    }
    return new InferTensor(name, dataType, dims, view.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), count);
  }

  /** A tensor over the data of a Serval core {@link Tensor}, not copied. */
  public static InferTensor from(Tensor tensor) {
    return of(tensor.name(), tensor.dataType(), tensor.shape(), tensor.data());
  }

  /** A {@link DataType#BOOL} tensor. */
  public static InferTensor ofBooleans(String name, long[] shape, boolean... values) {
    ByteBuffer buffer = allocate(name, shape, values.length, 1);
    for (boolean value : values) {
      buffer.put((byte) (value ? 1 : 0));
    }
    return of(name, DataType.BOOL, shape, buffer.flip());
  }

  /** A {@link DataType#INT8} tensor. */
  public static InferTensor ofInt8(String name, long[] shape, byte... values) {
    return of(name, DataType.INT8, shape, allocate(name, shape, values.length, 1).put(values).flip());
  }

  /** A {@link DataType#UINT8} tensor: each byte is read as 0 to 255 (an image's pixels, for one). */
  public static InferTensor ofUint8(String name, long[] shape, byte... values) {
    return of(name, DataType.UINT8, shape, allocate(name, shape, values.length, 1).put(values).flip());
  }

  /** A {@link DataType#INT16} tensor. */
  public static InferTensor ofInt16(String name, long[] shape, short... values) {
    return ofShorts(name, DataType.INT16, shape, values);
  }

  /** A {@link DataType#UINT16} tensor: each short's bits are read as 0 to 65535. */
  public static InferTensor ofUint16(String name, long[] shape, short... values) {
    return ofShorts(name, DataType.UINT16, shape, values);
  }

  /** An {@link DataType#INT32} tensor. */
  public static InferTensor ofInts(String name, long[] shape, int... values) {
    return ofInts(name, DataType.INT32, shape, values);
  }

  /** A {@link DataType#UINT32} tensor: each int's bits are read unsigned. */
  public static InferTensor ofUint32(String name, long[] shape, int... values) {
    return ofInts(name, DataType.UINT32, shape, values);
  }

  /** An {@link DataType#INT64} tensor. */
  public static InferTensor ofLongs(String name, long[] shape, long... values) {
    return ofLongs(name, DataType.INT64, shape, values);
  }

  /** A {@link DataType#UINT64} tensor: each long's bits are read unsigned. */
  public static InferTensor ofUint64(String name, long[] shape, long... values) {
    return ofLongs(name, DataType.UINT64, shape, values);
  }

  /** An {@link DataType#FP32} tensor. */
  public static InferTensor ofFloats(String name, long[] shape, float... values) {
    ByteBuffer buffer = allocate(name, shape, values.length, Float.BYTES);
    buffer.asFloatBuffer().put(values);
    return of(name, DataType.FP32, shape, buffer);
  }

  /** An {@link DataType#FP64} tensor. */
  public static InferTensor ofDoubles(String name, long[] shape, double... values) {
    ByteBuffer buffer = allocate(name, shape, values.length, Double.BYTES);
    buffer.asDoubleBuffer().put(values);
    return of(name, DataType.FP64, shape, buffer);
  }

  /** An {@link DataType#FP16} tensor of {@code values} rounded to half precision (nearest, ties to even). */
  public static InferTensor ofFp16(String name, long[] shape, float... values) {
    ByteBuffer buffer = allocate(name, shape, values.length, 2);
    for (float value : values) {
      buffer.putShort(HalfPrecision.toFp16(value));
    }
    return of(name, DataType.FP16, shape, buffer.flip());
  }

  /** A {@link DataType#BF16} tensor of {@code values} rounded to bfloat16 (nearest, ties to even). */
  public static InferTensor ofBf16(String name, long[] shape, float... values) {
    ByteBuffer buffer = allocate(name, shape, values.length, 2);
    for (float value : values) {
      buffer.putShort(HalfPrecision.toBf16(value));
    }
    return of(name, DataType.BF16, shape, buffer.flip());
  }

  /** A {@link DataType#BYTES} tensor of UTF-8 strings. */
  public static InferTensor ofStrings(String name, long[] shape, List<String> values) {
    List<byte[]> elements = new ArrayList<>(values.size());
    for (String value : values) {
      elements.add(value.getBytes(StandardCharsets.UTF_8));
    }
    return ofBytes(name, shape, elements);
  }

  /** A {@link DataType#BYTES} tensor of raw elements (a file's contents, say). */
  public static InferTensor ofBytes(String name, long[] shape, List<byte[]> values) {
    long[] dims = checkedShape(name, shape);
    checkCount(name, dims, values.size());
    long total = 0;
    for (byte[] value : values) {
      total += Integer.BYTES + value.length;
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("tensor '" + name + "': " + total + " bytes (expected: at most 2 GiB)");
    }
    ByteBuffer buffer = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    for (byte[] value : values) {
      buffer.putInt(value.length).put(value);
    }
    return of(name, DataType.BYTES, dims, buffer.flip());
  }

  private static InferTensor ofShorts(String name, DataType type, long[] shape, short[] values) {
    ByteBuffer buffer = allocate(name, shape, values.length, Short.BYTES);
    buffer.asShortBuffer().put(values);
    return of(name, type, shape, buffer);
  }

  private static InferTensor ofInts(String name, DataType type, long[] shape, int[] values) {
    ByteBuffer buffer = allocate(name, shape, values.length, Integer.BYTES);
    buffer.asIntBuffer().put(values);
    return of(name, type, shape, buffer);
  }

  private static InferTensor ofLongs(String name, DataType type, long[] shape, long[] values) {
    ByteBuffer buffer = allocate(name, shape, values.length, Long.BYTES);
    buffer.asLongBuffer().put(values);
    return of(name, type, shape, buffer);
  }

  /** A buffer for {@code count} values of {@code size} bytes, once the count is known to fit the shape. */
  private static ByteBuffer allocate(String name, long[] shape, int count, int size) {
    checkCount(name, checkedShape(name, shape), count);
    long bytes = (long) count * size;
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("tensor '" + name + "': " + bytes + " bytes (expected: at most 2 GiB)");
    }
    return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static long[] checkedShape(String name, long[] shape) {
    long[] dims = shape.clone();
    for (long dim : dims) {
      if (dim < 0) {
        throw new IllegalArgumentException("tensor '" + name + "': shape " + Shapes.format(dims)
            + " has a dimension " + dim + " (expected: every dimension >= 0; -1 is for model metadata, not data)");
      }
    }
    return dims;
  }

  private static int elementCount(String name, long[] dims) {
    long count;
    try {
      count = Shapes.elementCount(dims);
    } catch (ArithmeticException e) {
      count = Long.MAX_VALUE;
    }
    if (count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("tensor '" + name + "': shape " + Shapes.format(dims) + " holds " + count
          + " elements (expected: at most " + Integer.MAX_VALUE + ")");
    }
    return (int) count;
  }

  private static void checkCount(String name, long[] dims, int count) {
    int expected = elementCount(name, dims);
    if (count != expected) {
      throw new IllegalArgumentException("tensor '" + name + "': " + count + " values for shape "
          + Shapes.format(dims) + " (expected: " + expected + ")");
    }
  }

  private static int countBytesElements(String name, ByteBuffer view) {
    ByteBuffer cursor = view.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int count = 0;
    while (cursor.hasRemaining()) {
      if (cursor.remaining() < Integer.BYTES) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': BYTES element " + count + " has a truncated 4-byte length prefix");
      }
      int length = cursor.getInt();
      if (length < 0 || length > cursor.remaining()) {
        throw new IllegalArgumentException("tensor '" + name + "': BYTES element " + count + " declares "
            + Integer.toUnsignedString(length) + " bytes but only " + cursor.remaining() + " remain");
      }
      cursor.position(cursor.position() + length);
      count++;
    }
    return count;
  }

  /** The tensor's name. */
  public String name() {
    return name;
  }

  /** The element type. */
  public DataType dataType() {
    return dataType;
  }

  /** A copy of the shape. */
  public long[] shape() {
    return shape.clone();
  }

  /** The number of elements. */
  public int elementCount() {
    return elementCount;
  }

  /** The number of bytes of data. */
  public int byteSize() {
    return data.remaining();
  }

  /** A read-only little-endian view of the data, positioned at its start; no copy. */
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The elements as floats: FP32 as they are, FP16 and BF16 widened exactly. */
  public float[] toFloatArray() {
    float[] values = new float[elementCount];
    ByteBuffer in = data();
    switch (dataType) {
      case FP32 -> in.asFloatBuffer().get(values);
      case FP16 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = HalfPrecision.fromFp16(in.getShort());
        }
      }
      case BF16 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = HalfPrecision.fromBf16(in.getShort());
        }
      }
      default -> throw wrongType("FP32, FP16 or BF16");
    }
    return values;
  }

  /** The elements as doubles: FP64 as they are, FP32, FP16 and BF16 widened exactly. */
  public double[] toDoubleArray() {
    if (dataType == DataType.FP64) {
      double[] values = new double[elementCount];
      data().asDoubleBuffer().get(values);
      return values;
    }
    if (dataType != DataType.FP32 && dataType != DataType.FP16 && dataType != DataType.BF16) {
      throw wrongType("FP64, FP32, FP16 or BF16");
    }
    float[] floats = toFloatArray();
    double[] values = new double[floats.length];
    for (int i = 0; i < floats.length; i++) {
      values[i] = floats[i];
    }
    return values;
  }

  /**
   * The elements as longs, for every integer type: signed types sign-extended, UINT8 to UINT32 zero-extended,
   * UINT64 as its bits (read them with {@link Long#toUnsignedString(long)}).
   */
  public long[] toLongArray() {
    long[] values = new long[elementCount];
    ByteBuffer in = data();
    switch (dataType) {
      case INT64, UINT64 -> in.asLongBuffer().get(values);
      case INT32 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = in.getInt();
        }
      }
      case UINT32 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = Integer.toUnsignedLong(in.getInt());
        }
      }
      default -> {
        int[] narrow = toIntArray();
        for (int i = 0; i < values.length; i++) {
          values[i] = narrow[i];
        }
      }
    }
    return values;
  }

  /**
   * The elements as ints, for the integer types up to 32 bits: signed types sign-extended, UINT8 and UINT16
   * zero-extended, UINT32 as its bits (read them with {@link Integer#toUnsignedLong(int)}).
   */
  public int[] toIntArray() {
    int[] values = new int[elementCount];
    ByteBuffer in = data();
    switch (dataType) {
      case INT32, UINT32 -> in.asIntBuffer().get(values);
      case INT16 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = in.getShort();
        }
      }
      case UINT16 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = Short.toUnsignedInt(in.getShort());
        }
      }
      case INT8 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = in.get();
        }
      }
      case UINT8 -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = Byte.toUnsignedInt(in.get());
        }
      }
      default -> throw wrongType("an integer type of up to 32 bits (INT64 and UINT64: toLongArray)");
    }
    return values;
  }

  /** The elements of an INT16 or UINT16 tensor as their 16 bits. */
  public short[] toShortArray() {
    if (dataType != DataType.INT16 && dataType != DataType.UINT16) {
      throw wrongType("INT16 or UINT16");
    }
    short[] values = new short[elementCount];
    data().asShortBuffer().get(values);
    return values;
  }

  /** The elements of an INT8 or UINT8 tensor as their 8 bits. */
  public byte[] toByteArray() {
    if (dataType != DataType.INT8 && dataType != DataType.UINT8) {
      throw wrongType("INT8 or UINT8");
    }
    byte[] values = new byte[elementCount];
    data().get(values);
    return values;
  }

  /** The elements of a BOOL tensor (any non-zero byte is {@code true}). */
  public boolean[] toBooleanArray() {
    if (dataType != DataType.BOOL) {
      throw wrongType("BOOL");
    }
    boolean[] values = new boolean[elementCount];
    ByteBuffer in = data();
    for (int i = 0; i < values.length; i++) {
      values[i] = in.get() != 0;
    }
    return values;
  }

  /** The elements of a BYTES tensor. */
  public List<byte[]> toByteArrays() {
    if (dataType != DataType.BYTES) {
      throw wrongType("BYTES");
    }
    List<byte[]> elements = new ArrayList<>(elementCount);
    ByteBuffer cursor = data();
    while (cursor.hasRemaining()) {
      byte[] element = new byte[cursor.getInt()];
      cursor.get(element);
      elements.add(element);
    }
    return Collections.unmodifiableList(elements);
  }

  /** The elements of a BYTES tensor read as UTF-8 strings. */
  public List<String> toStrings() {
    List<byte[]> raw = toByteArrays();
    List<String> strings = new ArrayList<>(raw.size());
    for (byte[] element : raw) {
      strings.add(new String(element, StandardCharsets.UTF_8));
    }
    return Collections.unmodifiableList(strings);
  }

  private IllegalStateException wrongType(String expected) {
    return new IllegalStateException(
        "tensor '" + name + "' is " + dataType.wireName() + " (expected: " + expected + ")");
  }

  @Override
  public String toString() {
    return "InferTensor{" + name + ", " + dataType.wireName() + Shapes.format(shape) + ", " + byteSize() + " bytes}";
  }
}
