package io.serval.examples.operator;

import io.serval.core.DataType;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.NodeContext;
import io.serval.dag.NodeParameters;
import io.serval.dag.Operator;
import io.serval.dag.OperatorFactory;
import io.serval.dag.ServableResolver;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: l2_normalize}: divides each row of {@code x} (FP32, the last axis) by its Euclidean length, as
 * embedding models' outputs are before a cosine search; a row of zeros stays zeros. {@code params: {epsilon: E}}
 * (default 1e-12) bounds the divisor from below.
 *
 * <p>Everything an operator needs: the names of its inputs, the specs of its outputs from the specs of its inputs
 * (so a pipeline that feeds it the wrong datatype is refused at load, naming the node), and a run that allocates
 * its outputs in the request's memory.
 */
public final class L2NormalizeOperator implements Operator {
  private final double epsilon;

  private L2NormalizeOperator(double epsilon) {
    this.epsilon = epsilon;
  }

  /** Found by ServiceLoader through {@code META-INF/services/io.serval.dag.OperatorFactory}. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "l2_normalize";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("epsilon"));
      double epsilon = parameters.number("epsilon", 1e-12);
      if (!(epsilon > 0)) {
        throw new IllegalArgumentException("params.epsilon: is " + epsilon + " (expected: a number > 0)");
      }
      return new L2NormalizeOperator(epsilon);
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("x");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec x = inputs.get("x");
    if (x.dataType() != DataType.FP32 || x.rank() == 0) {
      throw new IllegalArgumentException("inputs.x: " + x.dataType().wireName() + " of rank " + x.rank()
          + " (expected: FP32 of rank 1 or more)");
    }
    return List.of(TensorSpec.of("y", DataType.FP32, x.shape()));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor x = inputs.get("x");
    long[] shape = x.shape();
    int width = (int) shape[shape.length - 1];
    FloatBuffer in = x.floats();
    ByteBuffer buffer = context.memory().allocate((long) in.remaining() * Float.BYTES);
    FloatBuffer out = buffer.asFloatBuffer();
    for (int start = 0; width > 0 && start < in.remaining(); start += width) {
      double sum = 0;
      for (int i = 0; i < width; i++) {
        sum += (double) in.get(start + i) * in.get(start + i);
      }
      double norm = Math.max(Math.sqrt(sum), epsilon);
      for (int i = 0; i < width; i++) {
        out.put(start + i, (float) (in.get(start + i) / norm));
      }
    }
    return CompletableFuture.completedFuture(List.of(Tensor.of("y", DataType.FP32, shape, buffer)));
  }
}
