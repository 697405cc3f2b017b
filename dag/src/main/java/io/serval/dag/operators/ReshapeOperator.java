package io.serval.dag.operators;

import io.serval.core.InvalidInputException;
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
 * {@code op: reshape}, {@code params: {shape: [1, 3, 48, 192]}}: input {@code x} (any datatype), output
 * {@code y}: the same elements in the same order under another shape, without a copy. As in ONNX's Reshape, a
 * {@code 0} keeps the input's dimension at that position and one {@code -1} takes whatever size the element count
 * leaves ({@code [0, -1]} flattens all but the first axis); {@code []} makes a tensor of one element a single value
 * (rank 0), which the JSON endpoint writes bare. {@code op: expand_dims} adds an axis instead.
 *
 * <p>Refused at load: a missing shape, dimensions below -1, more than one -1, a 0 past the input's
 * rank, and a shape whose element count cannot match the input's when both are known. Refused per request: an
 * input whose element count the shape cannot hold, naming both.
 */
public final class ReshapeOperator implements Operator {
  private final long[] shape;

  private ReshapeOperator(long[] shape) {
    this.shape = shape;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "reshape";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("shape"));
      if (!parameters.has("shape")) {
        throw new IllegalArgumentException("params.shape: missing (expected: a list of dimensions, 0 to keep the"
            + " input's, -1 for the rest, [] for one value)");
      }
      long[] shape = parameters.wholeNumbers("shape");
      int inferred = 0;
      for (long dim : shape) {
        if (dim < -1) {
          throw new IllegalArgumentException("params.shape: is " + Shapes.format(shape) + " (expected: whole"
              + " numbers >= -1: a size, 0 to keep the input's, -1 for the rest)");
        }
        inferred += dim == -1 ? 1 : 0;
      }
      if (inferred > 1) {
        throw new IllegalArgumentException("params.shape: " + Shapes.format(shape) + " has " + inferred
            + " dimensions of -1 (expected: at most one)");
      }
      return new ReshapeOperator(shape);
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("x");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec x = inputs.get("x");
    long[] in = x.shape();
    long[] out = new long[shape.length];
    long known = 1;
    int unknownAt = -1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] == 0 && i >= in.length) {
        throw new IllegalArgumentException("params.shape: " + Shapes.format(shape) + " keeps dimension " + i
            + " of inputs.x " + Shapes.format(in) + ", which has rank " + in.length);
      }
      out[i] = shape[i] == 0 ? in[i] : shape[i];
      if (out[i] == -1) {
        unknownAt = unknownAt == -1 ? i : -2;
      } else {
        known *= out[i];
      }
    }
    if (Shapes.isConcrete(in) && unknownAt != -2) {
      long count = Shapes.elementCount(in);
      if (unknownAt >= 0 && known > 0 && count % known == 0) {
        out[unknownAt] = count / known;
      } else if (unknownAt >= 0 || known != count) {
        throw new IllegalArgumentException("params.shape: " + Shapes.format(shape) + " cannot hold the " + count
            + " elements of inputs.x " + Shapes.format(in));
      }
    }
    return List.of(TensorSpec.of("y", x.dataType(), out));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor x = inputs.get("x");
    long count = x.elementCount();
    long[] out = new long[shape.length];
    long known = 1;
    int unknownAt = -1;
    for (int i = 0; i < shape.length; i++) {
      out[i] = shape[i] == 0 && i < x.rank() ? x.dim(i) : shape[i];
      if (out[i] == -1) {
        unknownAt = i;
      } else {
        known *= out[i];
      }
    }
    if (unknownAt >= 0 && known > 0 && count % known == 0) {
      out[unknownAt] = count / known;
    }
    if (unknownAt >= 0 && out[unknownAt] == -1 || unknownAt < 0 && known != count) {
      throw new InvalidInputException("input 'x': shape " + Shapes.format(shape) + " cannot hold the " + count
          + " elements of shape " + Shapes.format(x.shape()));
    }
    return CompletableFuture.completedFuture(List.of(Tensor.of("y", x.dataType(), out, x.data())));
  }
}
