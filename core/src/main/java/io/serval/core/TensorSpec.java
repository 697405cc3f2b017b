package io.serval.core;

import java.util.Arrays;

/**
 * The declared name, type and shape of a model input or output; {@link Shapes#DYNAMIC} ({@code -1}) marks a
 * dimension the caller chooses.
 */
public final class TensorSpec {
  private final String name;
  private final DataType dataType;
  private final long[] shape;

  private TensorSpec(String name, DataType dataType, long[] shape) {
    this.name = name;
    this.dataType = dataType;
    this.shape = shape;
  }

  /** A spec; throws when a dimension is below {@code -1}. */
  public static TensorSpec of(String name, DataType dataType, long... shape) {
    for (long dim : shape) {
      if (dim < Shapes.DYNAMIC) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': dimension " + dim + " in " + Shapes.format(shape) + " (expected: >= -1)");
      }
    }
    return new TensorSpec(name, dataType, shape.clone());
  }

  public String name() {
    return name;
  }

  public DataType dataType() {
    return dataType;
  }

  /** A copy of the shape, {@code -1} for open dimensions. */
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** The same spec with another shape. */
  public TensorSpec withShape(long... newShape) {
    return of(name, dataType, newShape);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec
        && ((TensorSpec) o).name.equals(name)
        && ((TensorSpec) o).dataType == dataType
        && Arrays.equals(((TensorSpec) o).shape, shape);
  }

  @Override
  public int hashCode() {
    return (name.hashCode() * 31 + dataType.hashCode()) * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + ":" + dataType.wireName() + Shapes.format(shape);
  }
}
