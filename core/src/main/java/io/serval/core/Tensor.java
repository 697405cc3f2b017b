package io.serval.core;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A named, typed, shaped tensor whose elements live in an off-heap buffer, row-major and little-endian.
 *
 * <p>The buffer layout is the v2 binary tensor layout: fixed-size types are packed without padding (a {@link
 * DataType#BOOL} is one byte), and {@link DataType#BYTES} elements are each a 4-byte little-endian length
 * followed by the bytes. A tensor is immutable; {@link #data()} returns a fresh read-only view each time.
 *
 * <pre>{@code
 * Tensor x = Tensor.ofFloats("x", new long[] {1, 3}, new float[] {0.1f, 0.2f, 0.7f});
 * float first = x.floats().get(0);
 * }</pre>
 */
public final class Tensor {
  private final String name;
  private final DataType dataType;
  private final long[] shape;
  private final ByteBuffer data;
  private final long elementCount;

  private Tensor(String name, DataType dataType, long[] shape, ByteBuffer data) {
    this.name = name;
    this.dataType = dataType;
    this.shape = shape;
    this.data = data;
    this.elementCount = Shapes.elementCount(shape);
  }

  /**
   * A tensor over {@code data}, read from its position to its limit: a direct buffer is used as it is (the
   * caller must not change it afterwards), a heap buffer is copied off-heap. Throws {@link InvalidInputException} when the byte length does not match the shape, naming the
   * tensor and both lengths.
   */
  public static Tensor of(String name, DataType dataType, long[] shape, ByteBuffer data) {
    long[] dims = shape.clone();
    long count;
    try {
      count = Shapes.elementCount(dims);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new InvalidInputException(
          "input '" + name + "': shape " + Shapes.format(dims) + " is not a valid tensor shape");
    }
    ByteBuffer view = data.isDirect() ? data.slice() : allocate(data.remaining()).put(data.duplicate()).flip();
    view.order(ByteOrder.LITTLE_ENDIAN);
    if (dataType.isFixedSize()) {
      long expected = count * dataType.byteSize();
      if (view.remaining() != expected) {
        throw new InvalidInputException(
            "tensor '"
                + name
                + "': "
                + view.remaining()
                + " bytes of data for shape "
                + Shapes.format(dims)
                + " of "
                + dataType.wireName()
                + " (expected: "
                + expected
                + " bytes)");
      }
    } else {
      long elements = countBytesElements(name, view);
      if (elements != count) {
        throw new InvalidInputException(
            "tensor '"
                + name
                + "': "
                + elements
                + " BYTES elements for shape "
                + Shapes.format(dims)
                + " (expected: "
                + count
                + ")");
      }
    }
    return new Tensor(name, dataType, dims, view.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  /** A tensor that copies {@code bytes} into a new off-heap buffer. */
  public static Tensor copyOf(String name, DataType dataType, long[] shape, byte[] bytes, int offset, int length) {
    ByteBuffer buffer = allocate(length);
    buffer.put(bytes, offset, length).flip();
    return of(name, dataType, shape, buffer);
  }

  /** An {@link DataType#FP32} tensor holding a copy of {@code values}. */
  public static Tensor ofFloats(String name, long[] shape, float[] values) {
    ByteBuffer buffer = allocate(Math.multiplyExact(values.length, Float.BYTES));
    buffer.asFloatBuffer().put(values);
    return of(name, DataType.FP32, shape, buffer);
  }

  /** A {@link DataType#BYTES} tensor holding the given elements. */
  public static Tensor ofBytes(String name, long[] shape, List<byte[]> elements) {
    int total = 0;
    for (byte[] element : elements) {
      total = Math.addExact(total, Integer.BYTES + element.length);
    }
    ByteBuffer buffer = allocate(total);
    for (byte[] element : elements) {
      buffer.putInt(element.length).put(element);
    }
    buffer.flip();
    return of(name, DataType.BYTES, shape, buffer);
  }

  /** A {@link DataType#BYTES} tensor of UTF-8 strings. */
  public static Tensor ofStrings(String name, long[] shape, List<String> values) {
    List<byte[]> elements = new ArrayList<>(values.size());
    for (String value : values) {
      elements.add(value.getBytes(StandardCharsets.UTF_8));
    }
    return ofBytes(name, shape, elements);
  }

  /**
   * A zeroed, little-endian, off-heap buffer of {@code bytes} bytes that the garbage collector frees. Memory of a
   * request comes from its {@link MemoryScope} instead, which frees it when the request ends.
   */
  public static ByteBuffer allocate(long bytes) {
    if (bytes > Integer.MAX_VALUE) {
      throw new InvalidInputException("a tensor of " + bytes + " bytes is larger than 2 GiB, the limit of one tensor");
    }
    return ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static long countBytesElements(String name, ByteBuffer view) {
    ByteBuffer cursor = view.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    long count = 0;
    while (cursor.hasRemaining()) {
      if (cursor.remaining() < Integer.BYTES) {
        throw new InvalidInputException(
            "tensor '" + name + "': BYTES element " + count + " has a truncated 4-byte length prefix");
      }
      int length = cursor.getInt();
      if (length < 0 || length > cursor.remaining()) {
        throw new InvalidInputException(
            "tensor '"
                + name
                + "': BYTES element "
                + count
                + " declares "
                + Integer.toUnsignedString(length)
                + " bytes but only "
                + cursor.remaining()
                + " remain");
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

  /** The number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** The size of dimension {@code index}. */
  public long dim(int index) {
    return shape[index];
  }

  /** The number of elements. */
  public long elementCount() {
    return elementCount;
  }

  /** The number of bytes of data. */
  public int byteSize() {
    return data.remaining();
  }

  /** A read-only little-endian view of the data, positioned at its start. */
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The data as floats; only for {@link DataType#FP32}. */
  public FloatBuffer floats() {
    requireType(DataType.FP32);
    return data().asFloatBuffer();
  }

  /**
   * Element {@code index} (row-major) of a numeric or BOOL tensor as the narrowest exact {@link Number}: an
   * {@link Integer} for BOOL (0 or 1), the 8 and 16-bit types, UINT8/UINT16 unsigned, and INT32; a {@link Long}
   * for UINT32 and INT64; a {@link BigInteger} for UINT64; a {@link Float} for FP16, BF16 and FP32; a {@link
   * Double} for FP64.
   */
  public Number numberAt(long index) {
    if (index < 0 || index >= elementCount) {
      throw new IndexOutOfBoundsException("element " + index + " of tensor '" + name + "' with "
          + elementCount + " elements");
    }
    int at = (int) (index * dataType.byteSize());
    switch (dataType) {
      case BOOL:
      case UINT8:
        return Byte.toUnsignedInt(data.get(at));
      case INT8:
        return (int) data.get(at);
      case UINT16:
        return Short.toUnsignedInt(data.getShort(at));
      case INT16:
        return (int) data.getShort(at);
      case UINT32:
        return Integer.toUnsignedLong(data.getInt(at));
      case INT32:
        return data.getInt(at);
      case UINT64:
        return new BigInteger(Long.toUnsignedString(data.getLong(at)));
      case INT64:
        return data.getLong(at);
      case FP16:
        return HalfFloats.fp16ToFloat(data.getShort(at));
      case BF16:
        return Float.intBitsToFloat(data.getShort(at) << 16);
      case FP32:
        return data.getFloat(at);
      case FP64:
        return data.getDouble(at);
      default:
        throw new IllegalStateException("tensor '" + name + "' is BYTES; its elements are not numbers");
    }
  }

  /** The elements of a {@link DataType#BYTES} tensor. */
  public List<byte[]> bytesElements() {
    requireType(DataType.BYTES);
    ByteBuffer cursor = data();
    List<byte[]> elements = new ArrayList<>();
    while (cursor.hasRemaining()) {
      byte[] element = new byte[cursor.getInt()];
      cursor.get(element);
      elements.add(element);
    }
    return Collections.unmodifiableList(elements);
  }

  /**
   * A copy in a buffer of its own, exactly as large as the data and freed by the garbage collector: what outlives
   * the request that made it (a cache entry) holds this, never a view of a larger buffer.
   */
  public Tensor compactCopy() {
    ByteBuffer copy = allocate(data.remaining());
    copy.put(data.duplicate()).flip();
    return new Tensor(name, dataType, shape, copy.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  /** A tensor with the same type, shape and data under another name. */
  public Tensor withName(String newName) {
    return new Tensor(newName, dataType, shape, data);
  }

  private void requireType(DataType expected) {
    if (dataType != expected) {
      throw new IllegalStateException(
          "tensor '" + name + "' is " + dataType.wireName() + " (expected: " + expected.wireName() + ")");
    }
  }

  @Override
  public String toString() {
    return "Tensor{" + name + ", " + dataType.wireName() + Shapes.format(shape) + ", " + byteSize() + " bytes}";
  }
}
