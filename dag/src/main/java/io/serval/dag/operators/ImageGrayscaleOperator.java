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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: image.grayscale}: input {@code pixels} (UINT8 [height, width, 3], RGB), output {@code pixels} (UINT8
 * [height, width, 1]): each pixel's luma by ITU-R BT.601, {@code 0.299 R + 0.587 G + 0.114 B}, in the fixed-point
 * form Pillow's {@code convert("L")} documents ({@code (R * 19595 + G * 38470 + B * 7471 + 32768) >> 16}), so a
 * gray image decoded to three equal channels comes back unchanged. Refused: an input of another channel count.
 */
public final class ImageGrayscaleOperator implements Operator {
  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "image.grayscale";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of());
      return new ImageGrayscaleOperator();
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("pixels");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec pixels = inputs.get("pixels");
    Images.requireSpec("pixels", pixels);
    long[] shape = pixels.shape();
    if (shape[2] != 3 && shape[2] != Shapes.DYNAMIC) {
      throw new IllegalArgumentException("inputs.pixels: " + Shapes.format(shape) + " has " + shape[2]
          + " channels (expected: 3, RGB)");
    }
    return List.of(TensorSpec.of("pixels", DataType.UINT8, shape[0], shape[1], 1));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor pixels = inputs.get("pixels");
    Images.require("pixels", pixels);
    if (pixels.dim(2) != 3) {
      throw new InvalidInputException("input 'pixels': shape " + Shapes.format(pixels.shape()) + " (expected: 3"
          + " channels, RGB)");
    }
    byte[] in = Images.bytes(pixels);
    int count = in.length / 3;
    ByteBuffer out = context.memory().allocate(count);
    for (int i = 0; i < count; i++) {
      int r = in[3 * i] & 0xff;
      int g = in[3 * i + 1] & 0xff;
      int b = in[3 * i + 2] & 0xff;
      out.put(i, (byte) ((r * 19595 + g * 38470 + b * 7471 + 32768) >> 16));
    }
    return CompletableFuture.completedFuture(List.of(
        Tensor.of("pixels", DataType.UINT8, new long[] {pixels.dim(0), pixels.dim(1), 1}, out)));
  }
}
