package io.serval.dag.operators;

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

/** {@code op: softmax}: input {@code x} (FP32, rank 1 or more), output {@code y}: softmax along the last axis. */
public final class SoftmaxOperator implements Operator {
  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "softmax";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of());
      return new SoftmaxOperator();
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
    for (int row = 0; width > 0 && row < in.remaining() / width; row++) {
      int start = row * width;
      float max = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < width; i++) {
        max = Math.max(max, in.get(start + i));
      }
      double sum = 0;
      for (int i = 0; i < width; i++) {
        sum += Math.exp(in.get(start + i) - max);
      }
      for (int i = 0; i < width; i++) {
        out.put(start + i, (float) (Math.exp(in.get(start + i) - max) / sum));
      }
    }
    return CompletableFuture.completedFuture(List.of(Tensor.of("y", DataType.FP32, shape, buffer)));
  }
}
