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
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * {@code op: topk}, {@code params: {k, labels}}: input {@code scores} (FP32 [..., K], rank 1 or more), outputs
 * {@code indices} (INT64 [..., k]) and {@code values} (FP32 [..., k]): the {@code k} (default 1) largest scores
 * along the last axis, largest first, and with {@code labels} (a list of K strings) or {@code labels_file} (a file
 * of K lines, relative to the pipeline's folder) a third output {@code labels}
 * (BYTES [..., k], UTF-8): the label of each index.
 *
 * <p>Order: larger scores first; equal scores by lower index first; NaN counts as larger than every number (as
 * in NumPy and PyTorch), so a broken score shows rather than hides. Refused: a {@code k} over K, and labels that
 * are not exactly K &mdash; at load when K is known, else per request as invalid input.
 */
public final class TopKOperator implements Operator {
  private final int k;
  private final byte @Nullable [][] labels;

  private TopKOperator(int k, byte @Nullable [][] labels) {
    this.k = k;
    this.labels = labels;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "topk";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("k", "labels", "labels_file"));
      int k = parameters.integer("k", 1, 1, Integer.MAX_VALUE);
      if (parameters.has("labels") && parameters.has("labels_file")) {
        throw new IllegalArgumentException("params.labels_file: given with params.labels (expected: one of them)");
      }
      List<String> labels = parameters.has("labels_file") ? lines(parameters.file("labels_file"))
          : parameters.strings("labels");
      byte[][] encoded = null;
      if (labels != null) {
        if (labels.size() < k) {
          throw new IllegalArgumentException("params.labels: " + labels.size() + " labels (expected: at least k = "
              + k + ", one per score)");
        }
        encoded = new byte[labels.size()][];
        for (int i = 0; i < encoded.length; i++) {
          encoded[i] = labels.get(i).getBytes(StandardCharsets.UTF_8);
        }
      }
      return new TopKOperator(k, encoded);
    }
  }

  /** A labels file's lines (UTF-8, one label each, a last empty line ignored), as a model's labels.txt is read. */
  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("params.labels_file: '" + file.getFileName() + "' cannot be read as UTF-8"
          + " lines: " + e.getMessage());
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("scores");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec scores = inputs.get("scores");
    long[] shape = scores.shape();
    if (scores.dataType() != DataType.FP32 || shape.length == 0) {
      throw new IllegalArgumentException("inputs.scores: " + scores.dataType().wireName() + " of rank "
          + shape.length + " (expected: FP32 of rank 1 or more)");
    }
    long last = shape[shape.length - 1];
    if (last >= 0 && last < k) {
      throw new IllegalArgumentException("params.k: is " + k + " (expected: at most " + last + ", the last"
          + " dimension of inputs.scores " + Shapes.format(shape) + ")");
    }
    if (labels != null && last >= 0 && last != labels.length) {
      throw new IllegalArgumentException("params.labels: " + labels.length + " labels (expected: " + last
          + ", one per score of inputs.scores " + Shapes.format(shape) + ")");
    }
    long[] out = shape.clone();
    out[out.length - 1] = k;
    List<TensorSpec> specs = new ArrayList<>();
    specs.add(TensorSpec.of("indices", DataType.INT64, out));
    specs.add(TensorSpec.of("values", DataType.FP32, out));
    if (labels != null) {
      specs.add(TensorSpec.of("labels", DataType.BYTES, out));
    }
    return specs;
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor scores = inputs.get("scores");
    if (scores.dataType() != DataType.FP32 || scores.rank() == 0) {
      throw new InvalidInputException("input 'scores': " + scores.dataType().wireName()
          + Shapes.format(scores.shape()) + " (expected: FP32 of rank 1 or more)");
    }
    long[] shape = scores.shape();
    int width = (int) shape[shape.length - 1];
    if (width < k) {
      throw new InvalidInputException("input 'scores': shape " + Shapes.format(shape) + " has " + width
          + " scores along its last axis, fewer than k (" + k + ")");
    }
    if (labels != null && width != labels.length) {
      throw new InvalidInputException("input 'scores': shape " + Shapes.format(shape) + " has " + width
          + " scores along its last axis (expected: " + labels.length + ", one per label)");
    }
    int rows = (int) (scores.elementCount() / width);
    long[] outShape = shape.clone();
    outShape[outShape.length - 1] = k;
    FloatBuffer in = scores.floats();
    ByteBuffer indices = context.memory().allocate((long) rows * k * Long.BYTES);
    ByteBuffer values = context.memory().allocate((long) rows * k * Float.BYTES);
    int[] top = new int[k];
    float[] row = new float[width];
    long labelBytes = 0;
    for (int r = 0; r < rows; r++) {
      in.get(r * width, row);
      select(row, top);
      for (int i = 0; i < k; i++) {
        int at = r * k + i;
        indices.putLong(at * Long.BYTES, top[i]);
        values.putFloat(at * Float.BYTES, row[top[i]]);
        if (labels != null) {
          labelBytes += Integer.BYTES + labels[top[i]].length;
        }
      }
    }
    List<Tensor> outputs = new ArrayList<>();
    outputs.add(Tensor.of("indices", DataType.INT64, outShape, indices));
    outputs.add(Tensor.of("values", DataType.FP32, outShape, values));
    if (labels != null) {
      ByteBuffer text = context.memory().allocate(labelBytes);
      for (int at = 0; at < rows * k; at++) {
        byte[] label = labels[(int) indices.getLong(at * Long.BYTES)];
        text.putInt(label.length).put(label);
      }
      text.flip();
      outputs.add(Tensor.of("labels", DataType.BYTES, outShape, text));
    }
    return CompletableFuture.completedFuture(outputs);
  }

  /** Whether score {@code a} at index {@code i} ranks before score {@code b} at index {@code j}. */
  static boolean before(float a, int i, float b, int j) {
    if (Float.isNaN(a) || Float.isNaN(b)) {
      return Float.isNaN(a) && (!Float.isNaN(b) || i < j);
    }
    return a > b || (a == b && i < j);
  }

  /**
   * The indices of the {@code top.length} best scores of {@code row}, best first: an insertion into a sorted
   * window (linear in the row) for small k, a sort of the whole row for large k.
   */
  private static void select(float[] row, int[] top) {
    int k = top.length;
    if (k > 32) {
      Integer[] order = new Integer[row.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (i, j) -> i.equals(j) ? 0 : before(row[i], i, row[j], j) ? -1 : 1);
      for (int i = 0; i < k; i++) {
        top[i] = order[i];
      }
      return;
    }
    int filled = 0;
    for (int i = 0; i < row.length; i++) {
      if (filled == k && !before(row[i], i, row[top[k - 1]], top[k - 1])) {
        continue;
      }
      int at = filled < k ? filled++ : k - 1;
      while (at > 0 && before(row[i], i, row[top[at - 1]], top[at - 1])) {
        top[at] = top[at - 1];
        at--;
      }
      top[at] = i;
    }
  }
}
