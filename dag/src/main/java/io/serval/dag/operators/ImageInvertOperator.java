package io.serval.dag.operators;

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
 * {@code op: image.invert}, {@code params: {when: always | light_background}}: input {@code pixels} (UINT8
 * [height, width, channels]), output {@code pixels}, same shape: each value {@code 255 - v}. With {@code
 * light_background} (the default) only an image whose border is light is inverted &mdash; the mean of every value
 * on its outermost rows and columns above 127 &mdash; so dark-on-light and light-on-dark drawings both come out
 * light-on-dark, as MNIST's digits are; other images pass unchanged, without a copy.
 */
public final class ImageInvertOperator implements Operator {
  private final boolean always;

  private ImageInvertOperator(boolean always) {
    this.always = always;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "image.invert";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("when"));
      String when = parameters.choice("when", "light_background", List.of("always", "light_background"));
      return new ImageInvertOperator(when.equals("always"));
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
    return List.of(TensorSpec.of("pixels", pixels.dataType(), pixels.shape()));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor pixels = inputs.get("pixels");
    Images.require("pixels", pixels);
    if (!always && borderMean(pixels.data(), (int) pixels.dim(0), (int) pixels.dim(1), (int) pixels.dim(2)) <= 127) {
      return CompletableFuture.completedFuture(List.of(pixels.withName("pixels")));
    }
    byte[] in = Images.bytes(pixels);
    ByteBuffer out = context.memory().allocate(in.length);
    for (int i = 0; i < in.length; i++) {
      out.put(i, (byte) (255 - (in[i] & 0xff)));
    }
    return CompletableFuture.completedFuture(
        List.of(Tensor.of("pixels", pixels.dataType(), pixels.shape(), out)));
  }

  /** The mean value on the first and last rows and columns, each pixel counted once. */
  private static double borderMean(ByteBuffer in, int height, int width, int channels) {
    long sum = 0;
    long count = 0;
    for (int y = 0; y < height; y++) {
      boolean edgeRow = y == 0 || y == height - 1;
      for (int x = 0; x < width; x += edgeRow || width == 1 ? 1 : width - 1) {
        int at = (y * width + x) * channels;
        for (int c = 0; c < channels; c++) {
          sum += in.get(at + c) & 0xff;
        }
        count += channels;
      }
    }
    return (double) sum / count;
  }
}
