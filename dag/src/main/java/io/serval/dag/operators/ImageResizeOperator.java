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
 * {@code op: image.resize}: input {@code pixels} (UINT8 [height, width, channels]), output {@code pixels} (UINT8,
 * same channels), resized by bilinear interpolation. {@code params.mode} says to what size:
 *
 * <ul>
 *   <li>{@code exact}, {@code {width, height}}: to exactly that size; output [height, width, C].
 *   <li>{@code shorter_side}, {@code {size}}: the shorter side to {@code size}, the longer one scaled by the same
 *       ratio and rounded down ({@code floor(long * size / short)}, as torchvision's {@code Resize(size)}); output
 *       [-1, -1, C], known per request. A square image becomes size x size.
 *   <li>{@code keep_ratio_pad}, {@code {width, height, pad_value}}: scaled by one ratio to fit inside width x height
 *       (the fitting side exactly, the other rounded to nearest, halves up), placed at the top left and padded
 *       right and bottom with {@code pad_value} (0 to 255, default 0); output [height, width, C].
 *   <li>{@code height_pad}, {@code {width, height, pad_value}}: PaddleOCR's resize of a text line for its
 *       classifier and recogniser. The height to {@code height}, the width scaled by the same ratio and rounded up
 *       ({@code ceil(height * inWidth / inHeight)}), squeezed to {@code width} when it would be wider, and the rest
 *       on the right padded with {@code pad_value}; output [height, width, C]. Unlike {@code keep_ratio_pad}, a long
 *       line keeps the full height (its letters narrowed) rather than shrinking to a sliver.
 *   <li>{@code multiple_of}, {@code {multiple, max_side}}: each side a multiple of {@code multiple}, as OCR text
 *       detection models take (PaddleOCR's {@code {multiple: 32, max_side: 960}}). An image whose longer side is
 *       over {@code max_side} is first scaled by one ratio so that side is {@code max_side}, the other
 *       {@code floor(side * max_side / longer)}; a smaller one is kept. Each side is then rounded to the nearest
 *       multiple, a side halfway between two to the even multiple (as Python's {@code round} does there), and is
 *       at least one multiple; output [-1, -1, C], known per request. A side can end up over {@code max_side} by
 *       up to half a multiple when {@code max_side} is not a multiple itself.
 * </ul>
 *
 * <p>The interpolation is the half-pixel-center convention of OpenCV's {@code INTER_LINEAR}: output pixel (x, y)
 * samples the input at {@code sx = (x + 0.5) * inWidth / outWidth - 0.5} (likewise {@code sy}), clamped to
 * {@code [0, inWidth - 1]}; the value is the bilinear blend of the four neighbours {@code floor(sx)},
 * {@code floor(sx) + 1} (the last column repeated at the edge) weighted by {@code sx - floor(sx)}, computed in
 * double precision and rounded to the nearest integer, halves up. There is no antialiasing on shrinking (unlike
 * PIL's bilinear filter), and OpenCV's fixed-point weights can differ from it by 1. Same size in, same pixels out.
 *
 * <p>Refused at load: a missing mode, a size parameter the mode does not use or misses, sizes outside 1 to
 * 65535. Refused per request: an image with no pixels, or a result over the 2 GiB of one tensor.
 */
public final class ImageResizeOperator implements Operator {
  static final int MAX_SIDE = 65535;
  private static final List<String> MODES = List.of("exact", "shorter_side", "keep_ratio_pad", "height_pad",
      "multiple_of");

  private final String mode;
  private final int width;
  private final int height;
  private final int size;
  private final byte padValue;
  private final int multiple;
  private final int maxSide;

  private ImageResizeOperator(String mode, int width, int height, int size, int padValue, int multiple,
      int maxSide) {
    this.mode = mode;
    this.width = width;
    this.height = height;
    this.size = size;
    this.padValue = (byte) padValue;
    this.multiple = multiple;
    this.maxSide = maxSide;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "image.resize";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("mode", "width", "height", "size", "pad_value", "multiple", "max_side"));
      if (!parameters.has("mode")) {
        throw new IllegalArgumentException("params.mode: missing (expected one of: " + String.join(", ", MODES)
            + ")");
      }
      String mode = parameters.choice("mode", "", MODES);
      List<String> used = switch (mode) {
        case "exact" -> List.of("width", "height");
        case "shorter_side" -> List.of("size");
        case "multiple_of" -> List.of("multiple", "max_side");
        default -> List.of("width", "height", "pad_value");
      };
      for (String name : List.of("width", "height", "size", "pad_value", "multiple", "max_side")) {
        if (parameters.has(name) && !used.contains(name)) {
          throw new IllegalArgumentException("params." + name + ": not used by mode " + mode + " (expected: "
              + String.join(", ", used) + ")");
        }
      }
      if (mode.equals("shorter_side")) {
        return new ImageResizeOperator(mode, 0, 0, parameters.integer("size", 1, MAX_SIDE), 0, 0, 0);
      }
      if (mode.equals("multiple_of")) {
        return new ImageResizeOperator(mode, 0, 0, 0, 0, parameters.integer("multiple", 1, MAX_SIDE),
            parameters.integer("max_side", 1, MAX_SIDE));
      }
      return new ImageResizeOperator(mode, parameters.integer("width", 1, MAX_SIDE),
          parameters.integer("height", 1, MAX_SIDE), 0, parameters.integer("pad_value", 0, 0, 255), 0, 0);
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
    long channels = pixels.shape()[2];
    if (mode.equals("shorter_side") || mode.equals("multiple_of")) {
      return List.of(TensorSpec.of("pixels", DataType.UINT8, Shapes.DYNAMIC, Shapes.DYNAMIC, channels));
    }
    return List.of(TensorSpec.of("pixels", DataType.UINT8, height, width, channels));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor pixels = inputs.get("pixels");
    Images.require("pixels", pixels);
    int inHeight = (int) pixels.dim(0);
    int inWidth = (int) pixels.dim(1);
    int channels = (int) pixels.dim(2);
    long outHeight;
    long outWidth;
    long scaledHeight;
    long scaledWidth;
    switch (mode) {
      case "exact" -> {
        outHeight = scaledHeight = height;
        outWidth = scaledWidth = width;
      }
      case "shorter_side" -> {
        if (inWidth <= inHeight) {
          scaledWidth = size;
          scaledHeight = (long) inHeight * size / inWidth;
        } else {
          scaledHeight = size;
          scaledWidth = (long) inWidth * size / inHeight;
        }
        outHeight = scaledHeight;
        outWidth = scaledWidth;
      }
      case "multiple_of" -> {
        int longer = Math.max(inWidth, inHeight);
        outHeight = scaledHeight = nearestMultiple(longer > maxSide ? (long) inHeight * maxSide / longer : inHeight);
        outWidth = scaledWidth = nearestMultiple(longer > maxSide ? (long) inWidth * maxSide / longer : inWidth);
      }
      case "height_pad" -> {
        outHeight = scaledHeight = height;
        outWidth = width;
        scaledWidth = Math.max(1, Math.min(width, ((long) height * inWidth + inHeight - 1) / inHeight));
      }
      default -> {
        outHeight = height;
        outWidth = width;
        if ((long) width * inHeight <= (long) height * inWidth) {
          scaledWidth = width;
          scaledHeight = Math.max(1, Math.min(height, roundedRatio(inHeight, width, inWidth)));
        } else {
          scaledHeight = height;
          scaledWidth = Math.max(1, Math.min(width, roundedRatio(inWidth, height, inHeight)));
        }
      }
    }
    if ((double) outHeight * outWidth * channels > Integer.MAX_VALUE) {
      throw new InvalidInputException("input 'pixels': resizing " + inWidth + " x " + inHeight + " (width x height)"
          + " by mode " + mode + " gives " + outWidth + " x " + outHeight + ", over the 2 GiB of one tensor");
    }
    ByteBuffer out = context.memory().allocate(outHeight * outWidth * channels);
    resize(Images.bytes(pixels), inHeight, inWidth, channels, out, (int) scaledHeight, (int) scaledWidth,
        (int) outWidth * channels);
    if (scaledHeight < outHeight || scaledWidth < outWidth) {
      pad(out, (int) scaledHeight, (int) scaledWidth, (int) outHeight, (int) outWidth, channels);
    }
    return CompletableFuture.completedFuture(List.of(
        Tensor.of("pixels", DataType.UINT8, new long[] {outHeight, outWidth, channels}, out)));
  }

  /** The multiple of {@code multiple} nearest to {@code side} (halfway: the even one), at least one multiple. */
  private long nearestMultiple(long side) {
    long multiples = side / multiple;
    long rest = side % multiple;
    if (2 * rest > multiple || (2 * rest == multiple && multiples % 2 == 1)) {
      multiples++;
    }
    return Math.max(1, multiples) * multiple;
  }

  /** {@code round(value * numerator / denominator)}, halves up, exactly. */
  private static long roundedRatio(long value, long numerator, long denominator) {
    return (2 * value * numerator + denominator) / (2 * denominator);
  }

  /**
   * Resizes {@code in} (HWC) to {@code outHeight x outWidth} at the top left of {@code out}, whose rows are
   * {@code outStride} bytes apart.
   */
  static void resize(byte[] in, int inHeight, int inWidth, int channels, ByteBuffer out, int outHeight,
      int outWidth, int outStride) {
    int[] x0 = new int[outWidth];
    int[] x1 = new int[outWidth];
    double[] fx = new double[outWidth];
    sources(inWidth, outWidth, x0, x1, fx);
    int[] y0 = new int[outHeight];
    int[] y1 = new int[outHeight];
    double[] fy = new double[outHeight];
    sources(inHeight, outHeight, y0, y1, fy);
    int inStride = inWidth * channels;
    for (int y = 0; y < outHeight; y++) {
      int top = y0[y] * inStride;
      int bottom = y1[y] * inStride;
      double wy = fy[y];
      for (int x = 0; x < outWidth; x++) {
        int left = x0[x] * channels;
        int right = x1[x] * channels;
        double wx = fx[x];
        int at = y * outStride + x * channels;
        for (int c = 0; c < channels; c++) {
          double upper = (1 - wx) * (in[top + left + c] & 0xff) + wx * (in[top + right + c] & 0xff);
          double lower = (1 - wx) * (in[bottom + left + c] & 0xff) + wx * (in[bottom + right + c] & 0xff);
          double value = (1 - wy) * upper + wy * lower;
          out.put(at + c, (byte) Math.min(255, (int) Math.floor(value + 0.5)));
        }
      }
    }
  }

  /** For each output position along one axis: the two input positions it blends and the weight of the second. */
  private static void sources(int inSize, int outSize, int[] first, int[] second, double[] weight) {
    double scale = (double) inSize / outSize;
    for (int i = 0; i < outSize; i++) {
      double source = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), inSize - 1);
      first[i] = (int) source;
      second[i] = Math.min(first[i] + 1, inSize - 1);
      weight[i] = source - first[i];
    }
  }

  private void pad(ByteBuffer out, int scaledHeight, int scaledWidth, int outHeight, int outWidth, int channels) {
    if (padValue == 0) {
      return;
    }
    for (int y = 0; y < outHeight; y++) {
      int from = y < scaledHeight ? scaledWidth : 0;
      for (int i = (y * outWidth + from) * channels; i < (y + 1) * outWidth * channels; i++) {
        out.put(i, padValue);
      }
    }
  }
}
