package io.serval.dag.operators;

import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.NodeContext;
import io.serval.dag.NodeParameters;
import io.serval.dag.Operator;
import io.serval.dag.OperatorFactory;
import io.serval.dag.ServableResolver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: expand_dims}, {@code params: {axis: 0}}: input {@code x} (any datatype), output {@code y}: the same
 * elements with an axis of size 1 inserted before axis {@code axis} (0, the default, to the input's rank), without
 * a copy; as NumPy's {@code expand_dims}. The usual use gives a preprocessed image ([3, H, W]) the batch axis a
 * model takes ([1, 3, H, W]). Refused at load: an axis past the input's rank.
 */
public final class ExpandDimsOperator implements Operator {
  private final int axis;

  private ExpandDimsOperator(int axis) {
    this.axis = axis;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "expand_dims";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("axis"));
      return new ExpandDimsOperator(parameters.integer("axis", 0, 0, Integer.MAX_VALUE));
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("x");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec x = inputs.get("x");
    if (axis > x.rank()) {
      throw new IllegalArgumentException("params.axis: is " + axis + " (expected: 0 to " + x.rank()
          + ", as inputs.x " + Shapes.format(x.shape()) + " has rank " + x.rank() + ")");
    }
    return List.of(TensorSpec.of("y", x.dataType(), expanded(x.shape())));
  }

  private long[] expanded(long[] shape) {
    long[] out = new long[shape.length + 1];
    System.arraycopy(shape, 0, out, 0, axis);
    out[axis] = 1;
    System.arraycopy(shape, axis, out, axis + 1, shape.length - axis);
    return out;
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor x = inputs.get("x");
    return CompletableFuture.completedFuture(List.of(Tensor.of("y", x.dataType(), expanded(x.shape()), x.data())));
  }
}
