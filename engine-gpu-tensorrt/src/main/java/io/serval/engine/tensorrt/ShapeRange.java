package io.serval.engine.tensorrt;

import io.serval.core.Shapes;
import java.util.Arrays;

/**
 * The smallest, the typical (what TensorRT tunes its kernels for) and the largest shape one input of an optimization
 * profile accepts.
 *
 * <pre>{@code
 * ShapeRange x = ShapeRange.parse("x", "1x3x32x32, 8x3x224x224, 8x3x640x640");
 * }</pre>
 */
final class ShapeRange {
  private final String input;
  private final long[] min;
  private final long[] opt;
  private final long[] max;

  private ShapeRange(String input, long[] min, long[] opt, long[] max) {
    this.input = input;
    this.min = min;
    this.opt = opt;
    this.max = max;
  }

  /**
   * A range; throws when the three shapes differ in rank, a dimension is negative, or {@code min <= opt <= max} does
   * not hold in every dimension.
   */
  static ShapeRange of(String input, long[] min, long[] opt, long[] max) {
    if (min.length != opt.length || opt.length != max.length) {
      throw new IllegalArgumentException("input '" + input + "': min " + Shapes.format(min) + ", opt "
          + Shapes.format(opt) + " and max " + Shapes.format(max) + " differ in rank (expected: one rank)");
    }
    for (int i = 0; i < min.length; i++) {
      if (min[i] < 0 || min[i] > opt[i] || opt[i] > max[i]) {
        throw new IllegalArgumentException("input '" + input + "': dimension " + i + " is " + min[i] + ", "
            + opt[i] + ", " + max[i] + " in min, opt and max (expected: 0 <= min <= opt <= max)");
      }
    }
    return new ShapeRange(input, min.clone(), opt.clone(), max.clone());
  }

  /**
   * Parses {@code "min,opt,max"}, each shape written with {@code x} between dimensions ({@code 1x3x224x224});
   * spaces are ignored.
   */
  static ShapeRange parse(String input, String text) {
    String[] shapes = text.replace(" ", "").split(",", -1);
    if (shapes.length != 3) {
      throw new IllegalArgumentException("'" + text + "' has " + shapes.length + " shape"
          + (shapes.length == 1 ? "" : "s") + " (expected: min,opt,max such as 1x3x224x224,8x3x224x224,8x3x224x224)");
    }
    return of(input, parseShape(text, shapes[0]), parseShape(text, shapes[1]), parseShape(text, shapes[2]));
  }

  private static long[] parseShape(String text, String shape) {
    String[] dims = shape.split("x", -1);
    long[] parsed = new long[dims.length];
    for (int i = 0; i < dims.length; i++) {
      try {
        parsed[i] = Long.parseLong(dims[i]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + text + "': '" + shape + "' is not a shape (expected: dimensions"
            + " joined by 'x', such as 1x3x224x224)");
      }
    }
    return parsed;
  }

  String input() {
    return input;
  }

  long[] min() {
    return min.clone();
  }

  long[] opt() {
    return opt.clone();
  }

  long[] max() {
    return max.clone();
  }

  int rank() {
    return min.length;
  }

  /** Whether {@code shape} lies within the range in every dimension. */
  boolean contains(long[] shape) {
    if (shape.length != min.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < min[i] || shape[i] > max[i]) {
        return false;
      }
    }
    return true;
  }

  /** {@code x:1x3x32x32/8x3x224x224/8x3x640x640}: the form written into plan cache keys. */
  String canonical() {
    return input + ":" + join(min) + "/" + join(opt) + "/" + join(max);
  }

  private static String join(long[] shape) {
    StringBuilder builder = new StringBuilder();
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) {
        builder.append('x');
      }
      builder.append(shape[i]);
    }
    return builder.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ShapeRange
        && ((ShapeRange) o).input.equals(input)
        && Arrays.equals(((ShapeRange) o).min, min)
        && Arrays.equals(((ShapeRange) o).opt, opt)
        && Arrays.equals(((ShapeRange) o).max, max);
  }

  @Override
  public int hashCode() {
    return canonical().hashCode();
  }

  @Override
  public String toString() {
    return input + " min " + Shapes.format(min) + " opt " + Shapes.format(opt) + " max " + Shapes.format(max);
  }
}
