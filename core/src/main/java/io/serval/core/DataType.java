package io.serval.core;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The tensor element types of the KServe v2 protocol, with their wire names and sizes.
 *
 * <p>{@link #BYTES} has no fixed size: each element is a 4-byte little-endian length followed by that many
 * bytes, both on the wire and in a {@link Tensor}'s buffer.
 */
public enum DataType {
  BOOL(1),
  UINT8(1),
  UINT16(2),
  UINT32(4),
  UINT64(8),
  INT8(1),
  INT16(2),
  INT32(4),
  INT64(8),
  FP16(2),
  FP32(4),
  FP64(8),
  BF16(2),
  BYTES(-1);

  private final int byteSize;

  DataType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** The size of one element in bytes; {@code -1} for {@link #BYTES}, whose elements vary in length. */
  public int byteSize() {
    return byteSize;
  }

  /** Whether every element has the same size, so that a buffer's length follows from the shape. */
  public boolean isFixedSize() {
    return byteSize > 0;
  }

  /**
   * The smallest value of an integer type up to 64 bits signed; 0 for the unsigned ones.
   *
   * @throws IllegalStateException for a type that is not an integer type
   */
  public long minValue() {
    switch (this) {
      case INT8:
        return Byte.MIN_VALUE;
      case INT16:
        return Short.MIN_VALUE;
      case INT32:
        return Integer.MIN_VALUE;
      case INT64:
        return Long.MIN_VALUE;
      case UINT8:
      case UINT16:
      case UINT32:
      case UINT64:
        return 0;
      default:
        throw new IllegalStateException(name() + " is not an integer type");
    }
  }

  /**
   * The largest value of an integer type that a {@code long} holds: UINT64 answers {@link Long#MAX_VALUE}, its
   * larger values need unsigned handling.
   *
   * @throws IllegalStateException for a type that is not an integer type
   */
  public long maxValue() {
    switch (this) {
      case INT8:
        return Byte.MAX_VALUE;
      case UINT8:
        return 0xFF;
      case INT16:
        return Short.MAX_VALUE;
      case UINT16:
        return 0xFFFF;
      case INT32:
        return Integer.MAX_VALUE;
      case UINT32:
        return 0xFFFF_FFFFL;
      case INT64:
      case UINT64:
        return Long.MAX_VALUE;
      default:
        throw new IllegalStateException(name() + " is not an integer type");
    }
  }

  /** The name used by the v2 protocol ({@code "FP32"}, {@code "BYTES"} ...). */
  public String wireName() {
    return name();
  }

  /**
   * The type of a v2 wire name, or {@code null} if the name is not one. Names are matched exactly, as the
   * protocol spells them.
   */
  public static @Nullable DataType fromWireName(String name) {
    for (DataType type : values()) {
      if (type.name().equals(name)) {
        return type;
      }
    }
    return null;
  }

  /**
   * Parses a type as written in configuration: the wire name ({@code FP32}), Triton's config name ({@code
   * TYPE_FP32}, where strings are {@code TYPE_STRING}), in any letter case.
   */
  public static @Nullable DataType fromConfigName(String name) {
    String upper = name.trim().toUpperCase(Locale.ROOT);
    if (upper.startsWith("TYPE_")) {
      upper = upper.substring("TYPE_".length());
    }
    if (upper.equals("STRING")) {
      return BYTES;
    }
    return fromWireName(upper);
  }

  /** Triton's model-config name of this type ({@code TYPE_FP32}; {@code TYPE_STRING} for {@link #BYTES}). */
  public String configName() {
    return this == BYTES ? "TYPE_STRING" : "TYPE_" + name();
  }
}
