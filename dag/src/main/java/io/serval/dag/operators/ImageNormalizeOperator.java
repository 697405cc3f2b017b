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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * {@code op: image.normalize}, {@code params: {scale, mean, std}}: input {@code pixels} (UINT8 [height, width,
 * channels]), output {@code tensor} (FP32 [channels, height, width], HWC turned to CHW), each value
 * {@code (pixel * scale - mean[c]) / std[c]}, computed in double precision and rounded once to FP32.
 *
 * <p>{@code scale} defaults to 1/255; {@code mean} (default [0]) and {@code std} (default [1]) are lists of one
 * number per channel, or of one number for every channel ({@code mean: [0.485, 0.456, 0.406], std: [0.229,
 * 0.224, 0.225]} for ImageNet models). Refused: a {@code std} of 0, and lists whose length is neither 1 nor the
 * number of channels &mdash; at load when the channels are known, else per request.
 */
public final class ImageNormalizeOperator implements Operator {
  private final double scale;
  private final double[] mean;
  private final double[] std;

  private ImageNormalizeOperator(double scale, double[] mean, double[] std) {
    this.scale = scale;
    this.mean = mean;
    this.std = std;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "image.normalize";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("scale", "mean", "std"));
      double scale = parameters.number("scale", 1.0 / 255);
      double[] mean = parameters.numbers("mean", new double[] {0});
      double[] std = parameters.numbers("std", new double[] {1});
      for (double value : std) {
        if (value == 0) {
          throw new IllegalArgumentException("params.std: is " + Arrays.toString(std)
              + " (expected: numbers other than 0)");
        }
      }
      return new ImageNormalizeOperator(scale, mean, std);
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
    if (shape[2] >= 0) {
      String mismatch = mismatch(shape[2]);
      if (mismatch != null) {
        throw new IllegalArgumentException(mismatch + " (expected: 1 or " + shape[2] + ", as inputs.pixels "
            + Shapes.format(shape) + " has " + shape[2] + " channels)");
      }
    }
    return List.of(TensorSpec.of("tensor", DataType.FP32, shape[2], shape[0], shape[1]));
  }

  /** Which list does not fit {@code channels}, as "params.mean: 2 numbers", or null. */
  private @Nullable String mismatch(long channels) {
    if (mean.length != 1 && mean.length != channels) {
      return "params.mean: " + mean.length + " numbers";
    }
    if (std.length != 1 && std.length != channels) {
      return "params.std: " + std.length + " numbers";
    }
    return null;
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor pixels = inputs.get("pixels");
    Images.require("pixels", pixels);
    int height = (int) pixels.dim(0);
    int width = (int) pixels.dim(1);
    int channels = (int) pixels.dim(2);
    String mismatch = mismatch(channels);
    if (mismatch != null) {
      throw new InvalidInputException("input 'pixels': " + channels + " channels, but " + mismatch
          + " (expected: 1 or " + channels + ")");
    }
    // One table per channel of the 256 possible results, each computed by the formula itself.
    float[][] tables = new float[channels][256];
    for (int c = 0; c < channels; c++) {
      double m = mean[mean.length == 1 ? 0 : c];
      double s = std[std.length == 1 ? 0 : c];
      for (int p = 0; p < 256; p++) {
        tables[c][p] = (float) ((p * scale - m) / s);
      }
    }
    byte[] in = Images.bytes(pixels);
    int plane = height * width;
    ByteBuffer out = context.memory().allocate((long) in.length * Float.BYTES);
    for (int c = 0; c < channels; c++) {
      float[] table = tables[c];
      int base = c * plane;
      for (int i = 0; i < plane; i++) {
        out.putFloat((base + i) * Float.BYTES, table[in[i * channels + c] & 0xff]);
      }
    }
    return CompletableFuture.completedFuture(
        List.of(Tensor.of("tensor", DataType.FP32, new long[] {channels, height, width}, out)));
  }
}
