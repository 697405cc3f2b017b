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
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * {@code op: ocr.db_boxes}, {@code params: {threshold, box_threshold, unclip_ratio, max_candidates, min_size}}: the
 * post-processing of a DB text detector (PaddleOCR's PP-OCR det models), from the map of how likely each pixel is
 * text to the quadrilaterals around the text, in the original image's pixels.
 *
 * <p>Inputs: {@code probabilities} (FP32 [1, 1, H, W] as the det model gives it, or [1, H, W]: the map of one
 * image, each value from 0 to 1) and {@code image} (UINT8 [height, width, channels], the decoded image the map was
 * computed from after resizing; only its size is read). Outputs: {@code boxes} (FP32 [N, 4, 2]: the corners (x, y)
 * of each box in the image's pixels, clockwise as seen from the top left) and {@code scores} (FP32 [N]); N is 0,
 * a valid empty tensor, when no text is found.
 *
 * <ol>
 *   <li>A pixel is text when its probability is over {@code threshold} (default 0.3; compared in FP32).
 *   <li>Text pixels that touch, side by side or diagonally, form one region. Regions are taken in the order of
 *       their first pixel (rows top to bottom, each left to right), at most {@code max_candidates} (default 1000);
 *       the rest are ignored.
 *   <li>A region's rectangle is the one of least area around its pixels' centres (pixel (x, y) is the point (x,
 *       y)), one of whose sides lies along an edge of their convex hull (rotating calipers). A region is dropped
 *       when a side of its rectangle is shorter than {@code min_size} (default 3), or when its pixels lie on one
 *       line (no hull).
 *   <li>Its score is the mean probability of the pixels whose centres are inside the rectangle or on its border,
 *       text or not (as PaddleOCR's "fast" box score); a score under {@code box_threshold} (default 0.6) drops it.
 *   <li>The rectangle is grown by {@code d = area * unclip_ratio / perimeter} (default ratio 1.5) on every side,
 *       since the detector learnt shrunk text: growing a rectangle by d with rounded corners and taking the
 *       rectangle of least area around that gives exactly this. It is dropped when a side is then shorter than
 *       {@code min_size + 2}.
 *   <li>Its corners are scaled to the image, x by width / W and y by height / H, and ordered: clockwise as seen on
 *       the image, from the corner of least x + y (of two, the one with the smaller y), which is the top left of
 *       a box turned by less than 45 degrees. With {@code whole_pixels: true} each coordinate is then rounded to
 *       the nearest whole pixel, halves to even (as PaddleOCR's post-processing does, and its recogniser was
 *       trained on such crops: fractional corners can lose the spaces between words). Then each corner is clipped
 *       to [0, width - 1] x [0, height - 1],
 *       and a box whose top edge (first to second corner) or left edge (first to fourth) is then shorter than
 *       {@code min_size + 1} is dropped (PaddleOCR's {@code int(length) <= 3}).
 *   <li>Boxes are sorted by their first corner's y, then its x; then, as PaddleOCR reads lines, each box from the
 *       second on moves ahead of the box before it for as long as their first corners' y differ by less than 10
 *       pixels and its first corner's x is smaller, so the boxes of one line read left to right.
 * </ol>
 *
 * <p>The work is bounded by the map: labelling walks each pixel once with a queue (never recursion, so a map that
 * is all text is one region like any other), hulls take each region's first and last pixel of each row, and a
 * score sums each row of its rectangle at once from per-row running sums; memory is 13 bytes per pixel.
 *
 * <p>Refused at load: {@code threshold} and {@code box_threshold} outside 0 to 1, a negative {@code
 * unclip_ratio}, {@code max_candidates} and {@code min_size} under 1, and inputs of other datatypes or shapes.
 * Refused per request: a map of another shape or without pixels, a probability that is NaN or outside 0 to 1 (a
 * model exported without its final sigmoid gives logits), and an image without pixels.
 */
public final class OcrDetectionBoxesOperator implements Operator {
  /** How close, in the image's pixels, two boxes' first corners' y are for the boxes to read as one line. */
  private static final double LINE_TOLERANCE = 10;
  /** How far, in the map's pixels, a pixel's centre may lie outside a rectangle and still count as on it. */
  private static final double EPSILON = 1e-6;
  private static final String MAP = "FP32 [1, 1, height, width] or [1, height, width], the map of one image";

  private final float threshold;
  private final double boxThreshold;
  private final double unclipRatio;
  private final int maxCandidates;
  private final int minSize;
  private final boolean wholePixels;

  private OcrDetectionBoxesOperator(float threshold, double boxThreshold, double unclipRatio, int maxCandidates,
      int minSize, boolean wholePixels) {
    this.wholePixels = wholePixels;
    this.threshold = threshold;
    this.boxThreshold = boxThreshold;
    this.unclipRatio = unclipRatio;
    this.maxCandidates = maxCandidates;
    this.minSize = minSize;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "ocr.db_boxes";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("threshold", "box_threshold", "unclip_ratio", "max_candidates", "min_size",
          "whole_pixels"));
      double threshold = fraction(parameters, "threshold", 0.3);
      double boxThreshold = fraction(parameters, "box_threshold", 0.6);
      double unclipRatio = parameters.number("unclip_ratio", 1.5);
      if (unclipRatio < 0) {
        throw new IllegalArgumentException("params.unclip_ratio: is " + plain(unclipRatio)
            + " (expected: a number >= 0)");
      }
      return new OcrDetectionBoxesOperator((float) threshold, boxThreshold, unclipRatio,
          parameters.integer("max_candidates", 1000, 1, Integer.MAX_VALUE),
          parameters.integer("min_size", 3, 1, Integer.MAX_VALUE), parameters.bool("whole_pixels", false));
    }

    private static double fraction(NodeParameters parameters, String name, double defaultValue) {
      double value = parameters.number(name, defaultValue);
      if (value < 0 || value > 1) {
        throw new IllegalArgumentException("params." + name + ": is " + plain(value)
            + " (expected: a number from 0 to 1)");
      }
      return value;
    }

    /** A number as written: 2 rather than 2.0. */
    private static String plain(double value) {
      return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("probabilities", "image");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec probabilities = inputs.get("probabilities");
    if (!isMap(probabilities.dataType(), probabilities.shape())) {
      throw new IllegalArgumentException("inputs.probabilities: " + probabilities.dataType().wireName()
          + Shapes.format(probabilities.shape()) + " (expected: " + MAP + ")");
    }
    Images.requireSpec("image", inputs.get("image"));
    return List.of(TensorSpec.of("boxes", DataType.FP32, Shapes.DYNAMIC, 4, 2),
        TensorSpec.of("scores", DataType.FP32, Shapes.DYNAMIC));
  }

  /** FP32 of rank 3 or 4 whose leading dimensions are 1 (or not known yet). */
  private static boolean isMap(DataType dataType, long[] shape) {
    if (dataType != DataType.FP32 || shape.length < 3 || shape.length > 4) {
      return false;
    }
    for (int i = 0; i < shape.length - 2; i++) {
      if (shape[i] != 1 && shape[i] != Shapes.DYNAMIC) {
        return false;
      }
    }
    return true;
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor probabilities = inputs.get("probabilities");
    long[] shape = probabilities.shape();
    if (!isMap(probabilities.dataType(), shape)) {
      throw new InvalidInputException("input 'probabilities': " + probabilities.dataType().wireName()
          + Shapes.format(shape) + " (expected: " + MAP + ")");
    }
    int height = (int) shape[shape.length - 2];
    int width = (int) shape[shape.length - 1];
    if (height == 0 || width == 0) {
      throw new InvalidInputException("input 'probabilities': shape " + Shapes.format(shape)
          + " has no pixels (expected: height and width of 1 or more)");
    }
    Tensor image = inputs.get("image");
    Images.require("image", image);
    FloatBuffer map = probabilities.floats();
    List<Box> boxes = boxes(map, rowSums(map, height, width), height, width, image.dim(0), image.dim(1));
    sort(boxes);
    int count = boxes.size();
    ByteBuffer corners = context.memory().allocate((long) count * 8 * Float.BYTES);
    ByteBuffer scores = context.memory().allocate((long) count * Float.BYTES);
    for (int b = 0; b < count; b++) {
      Box box = boxes.get(b);
      for (int i = 0; i < 8; i++) {
        corners.putFloat((b * 8 + i) * Float.BYTES, (float) box.corners()[i]);
      }
      scores.putFloat(b * Float.BYTES, (float) box.score());
    }
    return CompletableFuture.completedFuture(List.of(
        Tensor.of("boxes", DataType.FP32, new long[] {count, 4, 2}, corners),
        Tensor.of("scores", DataType.FP32, new long[] {count}, scores)));
  }

  /** One box found: its corners x0, y0, ..., x3, y3 in the image's pixels, in output order, and its score. */
  private record Box(double[] corners, double score) {}

  /**
   * Each row's running sums, row y's {@code width + 1} of them from {@code y * (width + 1)}: the sum of row y's
   * first x probabilities is at {@code y * (width + 1) + x}. Refuses a value that is not a probability.
   */
  private static double[] rowSums(FloatBuffer map, int height, int width) {
    double[] sums = new double[height * (width + 1)];
    for (int y = 0; y < height; y++) {
      double sum = 0;
      for (int x = 0; x < width; x++) {
        float value = map.get(y * width + x);
        if (!(value >= 0 && value <= 1)) {
          throw new InvalidInputException("input 'probabilities': " + value + " at row " + y + ", column " + x
              + " (expected: probabilities from 0 to 1)");
        }
        sum += value;
        sums[y * (width + 1) + x + 1] = sum;
      }
    }
    return sums;
  }

  /** The boxes of the map's regions, in the order of the regions. */
  private List<Box> boxes(FloatBuffer map, double[] sums, int height, int width, long imageHeight,
      long imageWidth) {
    boolean[] seen = new boolean[height * width];
    int[] queue = new int[height * width];
    int[] rowFirst = new int[height];
    int[] rowLast = new int[height];
    List<Box> boxes = new ArrayList<>();
    int candidates = 0;
    for (int start = 0; start < height * width && candidates < maxCandidates; start++) {
      if (seen[start] || !(map.get(start) > threshold)) {
        continue;
      }
      candidates++;
      // The region's pixels, breadth first; none is above the start's row, so its rows run from there down.
      int top = start / width;
      int bottom = top;
      rowFirst[top] = rowLast[top] = start % width;
      seen[start] = true;
      queue[0] = start;
      int end = 1;
      for (int head = 0; head < end; head++) {
        int y = queue[head] / width;
        int x = queue[head] % width;
        for (int ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
          for (int nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
            int next = ny * width + nx;
            if (seen[next] || !(map.get(next) > threshold)) {
              continue;
            }
            seen[next] = true;
            queue[end++] = next;
            if (ny > bottom) {
              bottom = ny;
              rowFirst[ny] = rowLast[ny] = nx;
            } else {
              rowFirst[ny] = Math.min(rowFirst[ny], nx);
              rowLast[ny] = Math.max(rowLast[ny], nx);
            }
          }
        }
      }
      Box box = box(hull(rowFirst, rowLast, top, bottom), sums, height, width, imageHeight, imageWidth);
      if (box != null) {
        boxes.add(box);
      }
    }
    return boxes;
  }

  /**
   * The convex hull of a region, as x0, y0, x1, y1, ... in positive order (clockwise as seen on the image, where y
   * grows downwards), without points on its edges: from each row's first and last pixel, which hold the hull's
   * corners. Fewer than 3 corners when the pixels lie on one line.
   */
  private static int[] hull(int[] rowFirst, int[] rowLast, int top, int bottom) {
    int[] points = new int[4 * (bottom - top + 1)];
    int count = 0;
    for (int y = top; y <= bottom; y++) {
      points[count++] = rowFirst[y];
      points[count++] = y;
      if (rowLast[y] != rowFirst[y]) {
        points[count++] = rowLast[y];
        points[count++] = y;
      }
    }
    int n = count / 2;
    // Andrew's monotone chain over the points, sorted by y, then x: a chain of positive turns forwards, one back
    // (each pass ends on the point the other starts from, kept once).
    int[] hull = new int[4 * n + 2];
    int size = 0;
    for (int pass = 0; pass < 2; pass++) {
      int floor = size;
      for (int k = 0; k < n; k++) {
        int i = pass == 0 ? k : n - 1 - k;
        int x = points[2 * i];
        int y = points[2 * i + 1];
        while (size - floor >= 2 && cross(hull, size - 2, size - 1, x, y) <= 0) {
          size--;
        }
        hull[2 * size] = x;
        hull[2 * size + 1] = y;
        size++;
      }
      size--;
    }
    return Arrays.copyOf(hull, 2 * size);
  }

  /** The cross product of (b - a) and (p - b), for hull corners a and b: positive for a positive turn. */
  private static long cross(int[] hull, int a, int b, int x, int y) {
    long ax = hull[2 * b] - hull[2 * a];
    long ay = hull[2 * b + 1] - hull[2 * a + 1];
    return ax * (y - hull[2 * b + 1]) - ay * (x - hull[2 * b]);
  }

  /** The region's box, or null when it is dropped. */
  private @Nullable Box box(int[] hull, double[] sums, int height, int width, long imageHeight,
      long imageWidth) {
    int n = hull.length / 2;
    if (n < 3) {
      return null;
    }
    // Rotating calipers: for each edge i (from corner i, along e, the inner side along f = e turned a quarter
    // positively), the corners farthest along e (ahead), along f (across) and back along e (behind); each moves
    // forwards only, so all edges take O(n). Integer products decide; the best rectangle is kept in doubles.
    int ahead = 1;
    int across = 1;
    int behind = 1;
    double best = Double.POSITIVE_INFINITY;
    int edge = 0;
    double back = 0;
    double front = 0;
    double depth = 0;
    for (int i = 0; i < n; i++) {
      int ox = hull[2 * i];
      int oy = hull[2 * i + 1];
      long ex = hull[2 * ((i + 1) % n)] - ox;
      long ey = hull[2 * ((i + 1) % n) + 1] - oy;
      ahead = Math.max(ahead, i + 1);
      while (dot(hull, ahead + 1, ahead, ex, ey) > 0) {
        ahead++;
      }
      across = Math.max(across, ahead);
      while (dot(hull, across + 1, across, -ey, ex) > 0) {
        across++;
      }
      behind = Math.max(behind, across);
      while (dot(hull, behind + 1, behind, ex, ey) < 0) {
        behind++;
      }
      double length = Math.sqrt(ex * ex + ey * ey);
      double edgeFront = dot(hull, ahead, i, ex, ey) / length;
      double edgeBack = dot(hull, behind, i, ex, ey) / length;
      double edgeDepth = dot(hull, across, i, -ey, ex) / length;
      double area = (edgeFront - edgeBack) * edgeDepth;
      if (area < best) {
        best = area;
        edge = i;
        back = edgeBack;
        front = edgeFront;
        depth = edgeDepth;
      }
    }
    int ox = hull[2 * edge];
    int oy = hull[2 * edge + 1];
    int ex = hull[2 * ((edge + 1) % n)] - ox;
    int ey = hull[2 * ((edge + 1) % n) + 1] - oy;
    double ux = ex / Math.hypot(ex, ey);
    double uy = ey / Math.hypot(ex, ey);
    double along = front - back;
    if (Math.min(along, depth) < minSize) {
      return null;
    }
    double score = meanInside(sums, height, width, corners(ox, oy, ux, uy, back, front, 0, depth));
    if (score < boxThreshold) {
      return null;
    }
    double grow = along * depth * unclipRatio / (2 * (along + depth));
    if (Math.min(along, depth) + 2 * grow < minSize + 2) {
      return null;
    }
    double[] grown = corners(ox, oy, ux, uy, back - grow, front + grow, -grow, depth + grow);
    double[] scaled = new double[8];
    int first = 0;
    for (int k = 0; k < 4; k++) {
      scaled[2 * k] = grown[2 * k] * imageWidth / width;
      scaled[2 * k + 1] = grown[2 * k + 1] * imageHeight / height;
      double sum = scaled[2 * k] + scaled[2 * k + 1];
      double least = scaled[2 * first] + scaled[2 * first + 1];
      if (sum < least || (sum == least && scaled[2 * k + 1] < scaled[2 * first + 1])) {
        first = k;
      }
    }
    double[] ordered = new double[8];
    for (int k = 0; k < 4; k++) {
      int from = (first + k) % 4;
      double x = wholePixels ? Math.rint(scaled[2 * from]) : scaled[2 * from];
      double y = wholePixels ? Math.rint(scaled[2 * from + 1]) : scaled[2 * from + 1];
      ordered[2 * k] = Math.min(Math.max(x, 0), imageWidth - 1);
      ordered[2 * k + 1] = Math.min(Math.max(y, 0), imageHeight - 1);
    }
    if (distance(ordered, 0, 1) < minSize + 1 || distance(ordered, 0, 3) < minSize + 1) {
      return null;
    }
    return new Box(ordered, score);
  }

  /** The dot product of (corner a - corner b) and (x, y), corners counted round the hull. */
  private static long dot(int[] hull, int a, int b, long x, long y) {
    int n = hull.length / 2;
    return (hull[2 * (a % n)] - hull[2 * (b % n)]) * x + (hull[2 * (a % n) + 1] - hull[2 * (b % n) + 1]) * y;
  }

  /**
   * The corners of the rectangle from {@code back} to {@code front} along (ux, uy) and from {@code near} to
   * {@code far} across it, measured from (ox, oy), in positive order.
   */
  private static double[] corners(int ox, int oy, double ux, double uy, double back, double front, double near,
      double far) {
    double[] alongs = {back, front, front, back};
    double[] acrosses = {near, near, far, far};
    double[] corners = new double[8];
    for (int k = 0; k < 4; k++) {
      corners[2 * k] = ox + ux * alongs[k] - uy * acrosses[k];
      corners[2 * k + 1] = oy + uy * alongs[k] + ux * acrosses[k];
    }
    return corners;
  }

  private static double distance(double[] corners, int a, int b) {
    return Math.hypot(corners[2 * a] - corners[2 * b], corners[2 * a + 1] - corners[2 * b + 1]);
  }

  /**
   * The mean probability of the pixels whose centres are inside the convex quadrilateral {@code corners} or on its
   * border: row by row, the span of x the quadrilateral covers, summed at once from the running sums.
   */
  private static double meanInside(double[] sums, int height, int width, double[] corners) {
    double top = Double.POSITIVE_INFINITY;
    double bottom = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < 4; k++) {
      top = Math.min(top, corners[2 * k + 1]);
      bottom = Math.max(bottom, corners[2 * k + 1]);
    }
    double total = 0;
    long count = 0;
    int last = Math.min(height - 1, (int) Math.floor(bottom + EPSILON));
    for (int y = Math.max(0, (int) Math.ceil(top - EPSILON)); y <= last; y++) {
      double left = Double.POSITIVE_INFINITY;
      double right = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < 4; k++) {
        double x0 = corners[2 * k];
        double y0 = corners[2 * k + 1];
        double x1 = corners[2 * ((k + 1) % 4)];
        double y1 = corners[2 * ((k + 1) % 4) + 1];
        if (y < Math.min(y0, y1) - EPSILON || y > Math.max(y0, y1) + EPSILON) {
          continue;
        }
        if (Math.abs(y1 - y0) < EPSILON) {
          left = Math.min(left, Math.min(x0, x1));
          right = Math.max(right, Math.max(x0, x1));
        } else {
          double x = x0 + Math.min(Math.max((y - y0) / (y1 - y0), 0), 1) * (x1 - x0);
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      }
      int from = Math.max(0, (int) Math.ceil(left - EPSILON));
      int to = Math.min(width - 1, (int) Math.floor(right + EPSILON));
      if (from <= to) {
        total += sums[y * (width + 1) + to + 1] - sums[y * (width + 1) + from];
        count += to - from + 1;
      }
    }
    return total / count;
  }

  /** Sorts by the first corner's y, then x, then moves each box ahead of those of its line that are to its right. */
  private static void sort(List<Box> boxes) {
    boxes.sort(Comparator.<Box>comparingDouble(box -> box.corners()[1]).thenComparingDouble(box -> box.corners()[0]));
    for (int i = 1; i < boxes.size(); i++) {
      for (int j = i; j > 0; j--) {
        double[] box = boxes.get(j).corners();
        double[] before = boxes.get(j - 1).corners();
        if (Math.abs(box[1] - before[1]) >= LINE_TOLERANCE || box[0] >= before[0]) {
          break;
        }
        Collections.swap(boxes, j - 1, j);
      }
    }
  }
}
