package io.serval.core;

import java.util.Arrays;

/** Arithmetic on tensor shapes, where {@code -1} marks a dimension left open. */
public final class Shapes {
  /** The value of a dimension that is not fixed. */
  public static final long DYNAMIC = -1;

  private Shapes() {}

  /**
   * The number of elements of a concrete shape; throws if a dimension is negative or the count overflows a
   * {@code long}.
   */
  public static long elementCount(long[] shape) {
    long count = 1;
    for (long dim : shape) {
      if (dim < 0) {
        throw new IllegalArgumentException("shape " + format(shape) + " has a negative dimension");
      }
      count = Math.multiplyExact(count, dim);
    }
    return count;
  }

  /** Whether every dimension is fixed. */
  public static boolean isConcrete(long[] shape) {
    return Arrays.stream(shape).allMatch(dim -> dim >= 0);
  }

  /** Formats a shape the way error messages show it: {@code [-1,3,48,192]}. */
  public static String format(long[] shape) {
    StringBuilder builder = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        builder.append(',');
      }
      builder.append(shape[i]);
    }
    return builder.append(']').toString();
  }

  /** The shape with a leading dimension added. */
  public static long[] prepend(long first, long[] shape) {
    long[] result = new long[shape.length + 1];
    result[0] = first;
    System.arraycopy(shape, 0, result, 1, shape.length);
    return result;
  }
}
