package io.serval.dag;

import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: first}: where the branches of a {@code switch} meet. Inputs {@code a}, {@code b} (and optionally
 * {@code c}, {@code d}) of one datatype; output {@code y}: the first of them, in that order, that was produced.
 * It is skipped only when all of its inputs were.
 */
public final class FirstOperator implements Operator {
  private static final List<String> NAMES = List.of("a", "b", "c", "d");
  private final List<String> inputs;

  private FirstOperator(List<String> inputs) {
    this.inputs = inputs;
  }

  /** Found by ServiceLoader. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "first";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("inputs"));
      int count = parameters.integer("inputs", 2, 2, NAMES.size());
      return new FirstOperator(NAMES.subList(0, count));
    }
  }

  @Override
  public List<String> inputNames() {
    return inputs;
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> given) {
    TensorSpec first = given.get(inputs.get(0));
    long[] shape = first.shape();
    for (String input : inputs) {
      TensorSpec spec = given.get(input);
      if (spec.dataType() != first.dataType() || spec.rank() != first.rank()) {
        throw new IllegalArgumentException("inputs." + input + ": " + spec.dataType().wireName()
            + Shapes.format(spec.shape()) + " (expected: " + first.dataType().wireName() + " of rank "
            + first.rank() + ", like inputs." + inputs.get(0) + ")");
      }
      long[] other = spec.shape();
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shape[i] == other[i] ? shape[i] : Shapes.DYNAMIC;
      }
    }
    return List.of(TensorSpec.of("y", first.dataType(), shape));
  }

  /** Given only the inputs that were produced: the first of them. */
  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> given, NodeContext context) {
    for (String input : inputs) {
      Tensor tensor = given.get(input);
      if (tensor != null) {
        return CompletableFuture.completedFuture(List.of(tensor.withName("y")));
      }
    }
    throw new IllegalStateException("first: no input was produced");
  }
}
