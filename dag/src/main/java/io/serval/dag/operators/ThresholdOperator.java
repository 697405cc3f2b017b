package io.serval.dag.operators;

import io.serval.core.DataType;
import io.serval.core.InvalidInputException;
import io.serval.core.Shapes;
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
 * {@code op: threshold}, {@code params: {value}} (a number, required): input {@code x} (FP32, any shape), output
 * {@code mask} (BOOL, the same shape): {@code x >= value}, with {@code value} rounded to FP32 first (so an FP32
 * 0.7 is at {@code value: 0.7}, which it would not be in double precision); NaN is never at or over the threshold.
 */
public final class ThresholdOperator implements Operator {
  private final float value;

  private ThresholdOperator(float value) {
    this.value = value;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "threshold";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("value"));
      return new ThresholdOperator((float) parameters.number("value"));
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("x");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec x = inputs.get("x");
    if (x.dataType() != DataType.FP32) {
      throw new IllegalArgumentException("inputs.x: " + x.dataType().wireName() + Shapes.format(x.shape())
          + " (expected: FP32)");
    }
    return List.of(TensorSpec.of("mask", DataType.BOOL, x.shape()));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor x = inputs.get("x");
    if (x.dataType() != DataType.FP32) {
      throw new InvalidInputException("input 'x': " + x.dataType().wireName() + Shapes.format(x.shape())
          + " (expected: FP32)");
    }
    FloatBuffer in = x.floats();
    int count = in.remaining();
    ByteBuffer out = context.memory().allocate(count);
    for (int i = 0; i < count; i++) {
      if (in.get(i) >= value) {
        out.put(i, (byte) 1);
      }
    }
    return CompletableFuture.completedFuture(List.of(Tensor.of("mask", DataType.BOOL, x.shape(), out)));
  }
}
