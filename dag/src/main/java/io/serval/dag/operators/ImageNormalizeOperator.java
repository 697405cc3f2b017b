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
  private final Normalization normalization;

  private ImageNormalizeOperator(Normalization normalization) {
    this.normalization = normalization;
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
      return new ImageNormalizeOperator(Normalization.read(parameters, 0, 1));
    }
  }

  /**
   * The {@code scale}, {@code mean} and {@code std} params as this operator reads and checks them, shared with the
   * operators that normalise the pixels they make (ocr.crop).
   */
  static final class Normalization {
    private final double scale;
    private final double[] mean;
    private final double[] std;

    private Normalization(double scale, double[] mean, double[] std) {
      this.scale = scale;
      this.mean = mean;
      this.std = std;
    }

    /** Reads the params: {@code scale} defaults to 1/255, {@code mean} and {@code std} to one number each. */
    static Normalization read(NodeParameters parameters, double defaultMean, double defaultStd) {
      double scale = parameters.number("scale", 1.0 / 255);
      double[] mean = parameters.numbers("mean", new double[] {defaultMean});
      double[] std = parameters.numbers("std", new double[] {defaultStd});
      for (double value : std) {
        if (value == 0) {
          throw new IllegalArgumentException("params.std: is " + Arrays.toString(std)
              + " (expected: numbers other than 0)");
        }
      }
      return new Normalization(scale, mean, std);
    }

    /** Refuses, at load, lists that do not fit the channels of image input {@code input} when they are known. */
    void requireFits(String input, TensorSpec pixels) {
      long[] shape = pixels.shape();
      if (shape[2] >= 0) {
        String mismatch = mismatch(shape[2]);
        if (mismatch != null) {
          throw new IllegalArgumentException(mismatch + " (expected: 1 or " + shape[2] + ", as inputs." + input
              + " " + Shapes.format(shape) + " has " + shape[2] + " channels)");
        }
      }
    }

    /** Refuses lists that do not fit the {@code channels} of a request's image input {@code input}. */
    void requireFits(String input, int channels) {
      String mismatch = mismatch(channels);
      if (mismatch != null) {
        throw new InvalidInputException("input '" + input + "': " + channels + " channels, but " + mismatch
            + " (expected: 1 or " + channels + ")");
      }
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

    /** One table per channel of the 256 possible results, each computed by the formula itself. */
    float[][] tables(int channels) {
      float[][] tables = new float[channels][256];
      for (int c = 0; c < channels; c++) {
        double m = mean[mean.length == 1 ? 0 : c];
        double s = std[std.length == 1 ? 0 : c];
        for (int p = 0; p < 256; p++) {
          tables[c][p] = (float) ((p * scale - m) / s);
        }
      }
      return tables;
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
    normalization.requireFits("pixels", pixels);
    long[] shape = pixels.shape();
    return List.of(TensorSpec.of("tensor", DataType.FP32, shape[2], shape[0], shape[1]));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor pixels = inputs.get("pixels");
    Images.require("pixels", pixels);
    int height = (int) pixels.dim(0);
    int width = (int) pixels.dim(1);
    int channels = (int) pixels.dim(2);
    normalization.requireFits("pixels", channels);
    float[][] tables = normalization.tables(channels);
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
