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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: ocr.orient}, {@code params: {threshold}}: turns the text lines that an orientation classifier finds
 * upside down, as PaddleOCR does between its classifier and its recogniser. Inputs: {@code boxes} (FP32 [N, 4, 2]:
 * the corners (x, y) of each line, clockwise from the top left, as ocr.db_boxes gives them) and {@code
 * probabilities} (FP32 [N, 2]: for each line, the probability that it is upright, then that it is turned by 180
 * degrees, as PaddleOCR's {@code ch_ppocr_mobile_v2.0_cls} answers). Outputs: {@code boxes} (FP32 [N, 4, 2]) and
 * {@code rotated} (BOOL [N]).
 *
 * <p>A line is rotated when its likelier class is 180 degrees (of equal probabilities, upright) and that
 * probability is over {@code threshold} (default 0.9, PaddleOCR's {@code cls_thresh}; compared in FP32, so an FP32
 * 0.9 is not over {@code threshold: 0.9}); NaN never is. A rotated line's corners are listed from the third on
 * (its bottom right, then bottom left, top left, top right), still clockwise: ocr.crop then reads the line from its
 * bottom right corner, turned by 180 degrees, so upright. Other lines' corners are as they came.
 *
 * <p>Refused at load: a {@code threshold} outside 0 to 1, and inputs of other datatypes or shapes, or of different
 * known numbers of lines. Refused per request: inputs of other shapes, and numbers of lines that differ.
 */
public final class OcrOrientOperator implements Operator {
  private static final String BOXES = "FP32 [lines, 4, 2], 4 corners (x, y) per line";
  private static final String PROBABILITIES = "FP32 [lines, 2], p(0) and p(180) per line";

  private final float threshold;

  private OcrOrientOperator(float threshold) {
    this.threshold = threshold;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "ocr.orient";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("threshold"));
      double threshold = parameters.number("threshold", 0.9);
      if (threshold < 0 || threshold > 1) {
        throw new IllegalArgumentException("params.threshold: is "
            + BigDecimal.valueOf(threshold).stripTrailingZeros().toPlainString() + " (expected: a number from 0 to 1)");
      }
      return new OcrOrientOperator((float) threshold);
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("boxes", "probabilities");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec boxes = inputs.get("boxes");
    if (!fits(boxes.dataType(), boxes.shape(), 4, 2)) {
      throw new IllegalArgumentException("inputs.boxes: " + boxes.dataType().wireName() + Shapes.format(boxes.shape())
          + " (expected: " + BOXES + ")");
    }
    TensorSpec probabilities = inputs.get("probabilities");
    if (!fits(probabilities.dataType(), probabilities.shape(), 2)) {
      throw new IllegalArgumentException("inputs.probabilities: " + probabilities.dataType().wireName()
          + Shapes.format(probabilities.shape()) + " (expected: " + PROBABILITIES + ")");
    }
    long lines = boxes.shape()[0];
    long classified = probabilities.shape()[0];
    if (lines != Shapes.DYNAMIC && classified != Shapes.DYNAMIC && lines != classified) {
      throw new IllegalArgumentException("inputs.probabilities: shape " + Shapes.format(probabilities.shape())
          + " (expected: " + lines + " rows, one per line of inputs.boxes " + Shapes.format(boxes.shape()) + ")");
    }
    long known = lines != Shapes.DYNAMIC ? lines : classified;
    return List.of(TensorSpec.of("boxes", DataType.FP32, known, 4, 2), TensorSpec.of("rotated", DataType.BOOL, known));
  }

  /** FP32 whose sizes after the first are {@code sizes} (or not known yet). */
  private static boolean fits(DataType dataType, long[] shape, long... sizes) {
    if (dataType != DataType.FP32 || shape.length != sizes.length + 1) {
      return false;
    }
    for (int i = 0; i < sizes.length; i++) {
      if (shape[i + 1] != sizes[i] && shape[i + 1] != Shapes.DYNAMIC) {
        return false;
      }
    }
    return true;
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor boxes = inputs.get("boxes");
    if (boxes.dataType() != DataType.FP32 || boxes.rank() != 3 || boxes.dim(1) != 4 || boxes.dim(2) != 2) {
      throw new InvalidInputException("input 'boxes': " + boxes.dataType().wireName() + Shapes.format(boxes.shape())
          + " (expected: " + BOXES + ")");
    }
    Tensor probabilities = inputs.get("probabilities");
    if (probabilities.dataType() != DataType.FP32 || probabilities.rank() != 2 || probabilities.dim(1) != 2) {
      throw new InvalidInputException("input 'probabilities': " + probabilities.dataType().wireName()
          + Shapes.format(probabilities.shape()) + " (expected: " + PROBABILITIES + ")");
    }
    int lines = (int) boxes.dim(0);
    if (probabilities.dim(0) != lines) {
      throw new InvalidInputException("input 'probabilities': shape " + Shapes.format(probabilities.shape())
          + " (expected: " + lines + " rows, one per line of input 'boxes' " + Shapes.format(boxes.shape()) + ")");
    }
    FloatBuffer corners = boxes.floats();
    FloatBuffer classes = probabilities.floats();
    ByteBuffer oriented = context.memory().allocate((long) lines * 8 * Float.BYTES);
    ByteBuffer rotated = context.memory().allocate(lines);
    for (int n = 0; n < lines; n++) {
      float upright = classes.get(2 * n);
      float turned = classes.get(2 * n + 1);
      boolean rotate = turned > upright && turned > threshold;
      for (int i = 0; i < 8; i++) {
        int from = rotate ? (i + 4) % 8 : i;
        oriented.putFloat((n * 8 + i) * Float.BYTES, corners.get(n * 8 + from));
      }
      rotated.put(n, (byte) (rotate ? 1 : 0));
    }
    return CompletableFuture.completedFuture(List.of(
        Tensor.of("boxes", DataType.FP32, new long[] {lines, 4, 2}, oriented),
        Tensor.of("rotated", DataType.BOOL, new long[] {lines}, rotated)));
  }
}
