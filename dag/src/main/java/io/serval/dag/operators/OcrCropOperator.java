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
import io.serval.dag.operators.ImageNormalizeOperator.Normalization;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * {@code op: ocr.crop}, {@code params: {height, min_width, max_width, rotate_tall, scale, mean, std}}: inputs
 * {@code pixels} (UINT8 [height, width, channels], the whole image) and {@code boxes} (FP32 [N, 4, 2]: N
 * quadrilaterals of 4 corners (x, y) in the image's pixels, clockwise from the top left, as a text detector gives
 * them); outputs {@code lines} (FP32 [N, channels, height, width]: each box cut out as a line image, ready for a
 * text recognition model such as PP-OCR's) and {@code widths} (INT64 [N]: the width of each line before padding).
 * Each box goes through the steps of PaddleOCR's recognition:
 *
 * <ol>
 *   <li>Rectified: a perspective transform maps an upright rectangle of width max(top side, bottom side) and height
 *       max(left side, right side), each rounded to the nearest pixel (halves up; PaddleOCR rounds down) and at
 *       least 1, onto the box, its corners (0, 0), (width, 0), (width, height), (0, height) onto the box's corners
 *       in order. A pixel of the rectangle takes the image's value where the transform maps its centre, sampled
 *       bilinearly with the half-pixel centres of image.resize, and points outside the image take the nearest edge
 *       pixel's value (edge replication, as PaddleOCR's {@code BORDER_REPLICATE}). So a box with whole corners
 *       along the axes gives exactly the pixels inside it, and listing its corners from another one turns it by
 *       90 degrees. (OpenCV's {@code warpPerspective} puts pixel centres at whole coordinates instead, half a pixel
 *       away, and rounds positions to 1/32 pixel.)
 *   <li>Turned: a rectangle at least {@code rotate_tall} (default 1.5; 0 never) times as high as it is wide is
 *       turned 90 degrees counter-clockwise, so vertical text read top to bottom runs left to right.
 *   <li>Resized: to {@code height} (default 48) keeping its ratio, to width {@code ceil(height * w / h)}, with the
 *       bilinear interpolation of image.resize. The batch's width is the widest line, at least {@code min_width}
 *       (default 320) and at most {@code max_width} (default 3200, or min_width when larger); a line wider than
 *       that is squeezed to it.
 *   <li>Normalised: each value {@code (value * scale - mean[c]) / std[c]} as image.normalize, here by default
 *       scale 1/255, mean 0.5 and std 0.5 (from -1 to 1), channels first, and padded on the right with 0 to the
 *       batch's width.
 * </ol>
 *
 * <p>The rectified and the resized pixels are rounded to whole values (halves up), as the UINT8 images of
 * PaddleOCR's steps are; only the pixels the resize reads are rectified, so a box's cost is its line's size. No
 * boxes (N = 0) gives lines [0, channels, height, min_width] and widths [0].
 *
 * <p>Refused at load: sizes outside 1 to 65535, a {@code max_width} under {@code min_width}, a {@code rotate_tall}
 * between 0 and 1 (it would turn wide lines), the params image.normalize refuses, and inputs of other types or
 * shapes. Refused per request as invalid input, naming the box by its index: a corner that is not a finite number,
 * corners that do not make a convex quadrilateral clockwise (three on a line, no area, crossed sides, or
 * counter-clockwise, which would mirror the text), a side over 2147483647 pixels; and lines over the 2 GiB of one
 * tensor.
 */
public final class OcrCropOperator implements Operator {
  private final int height;
  private final int minWidth;
  private final int maxWidth;
  private final double rotateTall;
  private final Normalization normalization;

  private OcrCropOperator(int height, int minWidth, int maxWidth, double rotateTall, Normalization normalization) {
    this.height = height;
    this.minWidth = minWidth;
    this.maxWidth = maxWidth;
    this.rotateTall = rotateTall;
    this.normalization = normalization;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "ocr.crop";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("height", "min_width", "max_width", "rotate_tall", "scale", "mean", "std"));
      int height = parameters.integer("height", 48, 1, ImageResizeOperator.MAX_SIDE);
      int minWidth = parameters.integer("min_width", 320, 1, ImageResizeOperator.MAX_SIDE);
      int maxWidth = parameters.integer("max_width", Math.max(3200, minWidth), minWidth, ImageResizeOperator.MAX_SIDE);
      double rotateTall = parameters.number("rotate_tall", 1.5);
      if (rotateTall != 0 && !(rotateTall >= 1)) {
        throw new IllegalArgumentException("params.rotate_tall: is " + rotateTall + " (expected: 0, to never turn"
            + " a crop, or a ratio of 1 or more)");
      }
      return new OcrCropOperator(height, minWidth, maxWidth, rotateTall, Normalization.read(parameters, 0.5, 0.5));
    }
  }

  /** The image of a request. */
  private record Image(byte[] pixels, int height, int width, int channels) {}

  /**
   * A box made ready to sample: the homography from its upright rectangle to the image ({@code h[0..8]}, row by
   * row), the rectangle's size, and whether it is turned.
   */
  private record Crop(double[] transform, int width, int height, boolean turned) {}

  @Override
  public List<String> inputNames() {
    return List.of("pixels", "boxes");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec pixels = inputs.get("pixels");
    Images.requireSpec("pixels", pixels);
    normalization.requireFits("pixels", pixels);
    TensorSpec boxes = inputs.get("boxes");
    long[] shape = boxes.shape();
    if (boxes.dataType() != DataType.FP32 || shape.length != 3 || (shape[1] != 4 && shape[1] != Shapes.DYNAMIC)
        || (shape[2] != 2 && shape[2] != Shapes.DYNAMIC)) {
      throw new IllegalArgumentException("inputs.boxes: " + boxes.dataType().wireName() + Shapes.format(shape)
          + " (expected: FP32 [boxes, 4, 2], 4 corners (x, y) per box)");
    }
    long width = minWidth == maxWidth ? minWidth : Shapes.DYNAMIC;
    return List.of(TensorSpec.of("lines", DataType.FP32, shape[0], pixels.shape()[2], height, width),
        TensorSpec.of("widths", DataType.INT64, shape[0]));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor pixels = inputs.get("pixels");
    Images.require("pixels", pixels);
    Tensor boxes = inputs.get("boxes");
    if (boxes.dataType() != DataType.FP32 || boxes.rank() != 3 || boxes.dim(1) != 4 || boxes.dim(2) != 2) {
      throw new InvalidInputException("input 'boxes': " + boxes.dataType().wireName() + Shapes.format(boxes.shape())
          + " (expected: FP32 [boxes, 4, 2], 4 corners (x, y) per box)");
    }
    int channels = (int) pixels.dim(2);
    normalization.requireFits("pixels", channels);
    int count = (int) boxes.dim(0);
    float[] corners = new float[count * 8];
    boxes.floats().get(corners);
    Crop[] crops = new Crop[count];
    long[] widths = new long[count];
    long batchWidth = minWidth;
    for (int n = 0; n < count; n++) {
      crops[n] = crop(corners, n);
      long across = crops[n].turned() ? crops[n].height() : crops[n].width();
      long down = crops[n].turned() ? crops[n].width() : crops[n].height();
      widths[n] = (height * across + down - 1) / down;
      batchWidth = Math.max(batchWidth, widths[n]);
    }
    batchWidth = Math.min(batchWidth, maxWidth);
    if ((double) count * channels * height * batchWidth * Float.BYTES > Integer.MAX_VALUE) {
      throw new InvalidInputException("input 'boxes': " + count + " lines of " + channels + " x " + height + " x "
          + batchWidth + " (channels x height x width) are over the 2 GiB of one tensor");
    }
    ByteBuffer lines = context.memory().allocate((long) count * channels * height * batchWidth * Float.BYTES);
    ByteBuffer lineWidths = context.memory().allocate((long) count * Long.BYTES);
    Image image = new Image(Images.bytes(pixels), (int) pixels.dim(0), (int) pixels.dim(1), channels);
    float[][] tables = normalization.tables(channels);
    for (int n = 0; n < count; n++) {
      int width = (int) Math.min(widths[n], batchWidth);
      lineWidths.putLong(n * Long.BYTES, width);
      draw(image, crops[n], width, (int) batchWidth, tables, lines, n * channels * height * (int) batchWidth);
    }
    return CompletableFuture.completedFuture(List.of(
        Tensor.of("lines", DataType.FP32, new long[] {count, channels, height, batchWidth}, lines),
        Tensor.of("widths", DataType.INT64, new long[] {count}, lineWidths)));
  }

  /** Box {@code n} of {@code corners}, checked, with the transform that samples it. */
  private Crop crop(float[] corners, int n) {
    double[] box = new double[8];
    boolean valid = true;
    for (int i = 0; i < 8; i++) {
      box[i] = corners[n * 8 + i];
      valid &= Double.isFinite(box[i]);
    }
    // Clockwise on the screen (y down) and convex: every corner turns the same way, to the right.
    for (int i = 0; valid && i < 4; i++) {
      int b = (i + 1) % 4;
      int c = (i + 2) % 4;
      double turn = (box[2 * b] - box[2 * i]) * (box[2 * c + 1] - box[2 * b + 1])
          - (box[2 * b + 1] - box[2 * i + 1]) * (box[2 * c] - box[2 * b]);
      valid = turn > 0;
    }
    double across = Math.max(distance(box, 0, 1), distance(box, 3, 2));
    double down = Math.max(distance(box, 0, 3), distance(box, 1, 2));
    if (valid && Math.max(across, down) > Integer.MAX_VALUE) {
      throw new InvalidInputException("input 'boxes': box " + n + " has a side of " + Math.max(across, down)
          + " pixels (expected: at most " + Integer.MAX_VALUE + ")");
    }
    int width = (int) Math.max(1, Math.round(across));
    int tall = (int) Math.max(1, Math.round(down));
    double[] transform = valid ? homography(box, width, tall) : null;
    if (transform == null) {
      StringBuilder listed = new StringBuilder();
      for (int i = 0; i < 4; i++) {
        listed.append(i == 0 ? "" : " ").append('(').append(corners[n * 8 + 2 * i]).append(", ")
            .append(corners[n * 8 + 2 * i + 1]).append(')');
      }
      throw new InvalidInputException("input 'boxes': box " + n + " " + listed + " is degenerate or not"
          + " clockwise (expected: 4 finite corners, clockwise from the top left, of a convex quadrilateral with no"
          + " three on a line)");
    }
    return new Crop(transform, width, tall, rotateTall > 0 && tall >= rotateTall * width);
  }

  private static double distance(double[] box, int from, int to) {
    return Math.hypot(box[2 * to] - box[2 * from], box[2 * to + 1] - box[2 * from + 1]);
  }

  /**
   * The homography that takes (0, 0), (width, 0), (width, height) and (0, height) to the box's corners in order:
   * {@code x = (h0 u + h1 v + h2) / (h6 u + h7 v + 1)}, {@code y = (h3 u + h4 v + h5) / (h6 u + h7 v + 1)}, its 8
   * unknowns solved from the 8 equations of the corners by Gaussian elimination with partial pivoting. Null when
   * the system is singular, or when the rectangle does not map to one side of the line at infinity (a denominator
   * not above 0 at one of its corners), which a convex box rules out but rounding may not.
   */
  private static double @Nullable [] homography(double[] box, int width, int height) {
    double[] us = {0, width, width, 0};
    double[] vs = {0, 0, height, height};
    double[][] system = new double[8][];
    for (int i = 0; i < 4; i++) {
      double u = us[i];
      double v = vs[i];
      double x = box[2 * i];
      double y = box[2 * i + 1];
      system[2 * i] = new double[] {u, v, 1, 0, 0, 0, -u * x, -v * x, x};
      system[2 * i + 1] = new double[] {0, 0, 0, u, v, 1, -u * y, -v * y, y};
    }
    for (int column = 0; column < 8; column++) {
      int pivot = column;
      for (int row = column + 1; row < 8; row++) {
        if (Math.abs(system[row][column]) > Math.abs(system[pivot][column])) {
          pivot = row;
        }
      }
      if (system[pivot][column] == 0) {
        return null;
      }
      double[] swapped = system[pivot];
      system[pivot] = system[column];
      system[column] = swapped;
      for (int row = column + 1; row < 8; row++) {
        double factor = system[row][column] / system[column][column];
        for (int k = column; k < 9; k++) {
          system[row][k] -= factor * system[column][k];
        }
      }
    }
    double[] h = new double[9];
    h[8] = 1;
    for (int row = 7; row >= 0; row--) {
      double sum = system[row][8];
      for (int k = row + 1; k < 8; k++) {
        sum -= system[row][k] * h[k];
      }
      h[row] = sum / system[row][row];
    }
    for (double value : h) {
      if (!Double.isFinite(value)) {
        return null;
      }
    }
    for (int i = 0; i < 4; i++) {
      if (!(h[6] * us[i] + h[7] * vs[i] + 1 > 0)) {
        return null;
      }
    }
    return h;
  }

  /**
   * Draws one line into {@code out} from float {@code first} on: its crop, turned if so, resized to
   * {@code width} x {@code height} and normalised, each channel a plane of {@code batchWidth}-wide rows; the rest
   * of each row stays 0.
   */
  private void draw(Image image, Crop crop, int width, int batchWidth, float[][] tables, ByteBuffer out,
      int first) {
    int across = crop.turned() ? crop.height() : crop.width();
    int down = crop.turned() ? crop.width() : crop.height();
    int[] x0 = new int[width];
    int[] x1 = new int[width];
    double[] fx = new double[width];
    sources(across, width, x0, x1, fx);
    int[] y0 = new int[height];
    int[] y1 = new int[height];
    double[] fy = new double[height];
    sources(down, height, y0, y1, fy);
    // Each pixel of the crop the resize reads, rectified once: a grid of the rows and columns it reads.
    int[] columns = compact(x0, x1);
    int[] rows = compact(y0, y1);
    int channels = image.channels();
    byte[] grid = new byte[rows.length * columns.length * channels];
    for (int r = 0; r < rows.length; r++) {
      for (int k = 0; k < columns.length; k++) {
        rectified(image, crop, columns[k], rows[r], grid, (r * columns.length + k) * channels);
      }
    }
    int plane = height * batchWidth;
    for (int y = 0; y < height; y++) {
      int upper = y0[y] * columns.length;
      int lower = y1[y] * columns.length;
      for (int x = 0; x < width; x++) {
        int topLeft = (upper + x0[x]) * channels;
        int topRight = (upper + x1[x]) * channels;
        int bottomLeft = (lower + x0[x]) * channels;
        int bottomRight = (lower + x1[x]) * channels;
        for (int c = 0; c < channels; c++) {
          int value = blend(grid[topLeft + c] & 0xff, grid[topRight + c] & 0xff, grid[bottomLeft + c] & 0xff,
              grid[bottomRight + c] & 0xff, fx[x], fy[y]);
          out.putFloat((first + c * plane + y * batchWidth + x) * Float.BYTES, tables[c][value]);
        }
      }
    }
  }

  /**
   * The distinct positions of {@code first} and {@code second}, in order; each of theirs is replaced by its index
   * among them.
   */
  private static int[] compact(int[] first, int[] second) {
    int[] all = new int[first.length + second.length];
    System.arraycopy(first, 0, all, 0, first.length);
    System.arraycopy(second, 0, all, first.length, second.length);
    int[] positions = Arrays.stream(all).sorted().distinct().toArray();
    for (int i = 0; i < first.length; i++) {
      first[i] = Arrays.binarySearch(positions, first[i]);
      second[i] = Arrays.binarySearch(positions, second[i]);
    }
    return positions;
  }

  /**
   * For each output position along one axis, as image.resize finds them: the two input positions it blends and
   * the weight of the second.
   */
  private static void sources(int inSize, int outSize, int[] first, int[] second, double[] weight) {
    double scale = (double) inSize / outSize;
    for (int i = 0; i < outSize; i++) {
      double source = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), inSize - 1);
      first[i] = (int) source;
      second[i] = Math.min(first[i] + 1, inSize - 1);
      weight[i] = source - first[i];
    }
  }

  /**
   * Pixel (x, y) of the crop as the line sees it (turned if so), every channel, into {@code values} from
   * {@code offset}: the image sampled where the homography maps the pixel's centre, edge pixels repeated outside.
   */
  private static void rectified(Image image, Crop crop, int x, int y, byte[] values, int offset) {
    // Turned counter-clockwise: the line's pixel (x, y) is the crop's (width - 1 - y, x).
    double u = (crop.turned() ? crop.width() - 1 - y : x) + 0.5;
    double v = (crop.turned() ? x : y) + 0.5;
    double[] h = crop.transform();
    double denominator = h[6] * u + h[7] * v + 1;
    double sx = Math.min(Math.max((h[0] * u + h[1] * v + h[2]) / denominator - 0.5, 0), image.width() - 1);
    double sy = Math.min(Math.max((h[3] * u + h[4] * v + h[5]) / denominator - 0.5, 0), image.height() - 1);
    int left = (int) sx;
    int top = (int) sy;
    int right = Math.min(left + 1, image.width() - 1);
    int bottom = Math.min(top + 1, image.height() - 1);
    int channels = image.channels();
    byte[] pixels = image.pixels();
    int upper = top * image.width();
    int lower = bottom * image.width();
    for (int c = 0; c < channels; c++) {
      values[offset + c] = (byte) blend(pixels[(upper + left) * channels + c] & 0xff,
          pixels[(upper + right) * channels + c] & 0xff, pixels[(lower + left) * channels + c] & 0xff,
          pixels[(lower + right) * channels + c] & 0xff, sx - left, sy - top);
    }
  }

  /** The bilinear blend of image.resize, rounded to the nearest whole value, halves up. */
  private static int blend(int topLeft, int topRight, int bottomLeft, int bottomRight, double wx, double wy) {
    double upper = (1 - wx) * topLeft + wx * topRight;
    double lower = (1 - wx) * bottomLeft + wx * bottomRight;
    return Math.min(255, (int) Math.floor((1 - wy) * upper + wy * lower + 0.5));
  }
}
