package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.floats;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.unsigned;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.DataType;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.Pipeline;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ocr.orient: the lines the classifier finds upside down are listed from their opposite corner. */
class OcrOrientOperatorTest {
  private static String orient(String params, long[] boxes, long[] probabilities) {
    return yaml("ocr.orient", params, List.of(TensorSpec.of("boxes", DataType.FP32, boxes),
        TensorSpec.of("probabilities", DataType.FP32, probabilities)), "boxes", "rotated");
  }

  private static String orient(String params) {
    return orient(params, new long[] {-1, 4, 2}, new long[] {-1, 2});
  }

  /** Lines of the given corners (x0, y0, ..., x3, y3), one array per line. */
  private static Tensor boxes(float[]... corners) {
    float[] values = new float[corners.length * 8];
    for (int n = 0; n < corners.length; n++) {
      System.arraycopy(corners[n], 0, values, n * 8, 8);
    }
    return Tensor.ofFloats("boxes", new long[] {corners.length, 4, 2}, values);
  }

  private static Tensor probabilities(float... values) {
    return Tensor.ofFloats("probabilities", new long[] {values.length / 2, 2}, values);
  }

  @Test
  void listsTheLinesOverTheThresholdFromTheirOppositeCorner() throws Exception {
    Pipeline pipeline = compile(orient("{}"));
    assertThat(pipeline.signature().outputs().toString()).isEqualTo("[boxes:FP32[-1,4,2], rotated:BOOL[-1]]");

    // Line 0 is upright, line 1 upside down (0.95 over the default 0.9), line 2 likelier upside down but not over
    // 0.9, as PaddleOCR leaves it.
    float[] first = {10, 20, 110, 20, 110, 50, 10, 50};
    float[] second = {10, 60, 110, 60, 110, 90, 10, 90};
    float[] third = {10, 100, 110, 102, 109, 132, 9, 130};
    List<Tensor> out = run(pipeline, List.of(boxes(first, second, third),
        probabilities(0.98f, 0.02f, 0.05f, 0.95f, 0.15f, 0.85f)));

    assertThat(out.get(0).shape()).containsExactly(3, 4, 2);
    assertThat(floats(out.get(0))).containsExactly(
        10, 20, 110, 20, 110, 50, 10, 50,
        110, 90, 10, 90, 10, 60, 110, 60,
        10, 100, 110, 102, 109, 132, 9, 130);
    assertThat(out.get(1).dataType()).isEqualTo(DataType.BOOL);
    assertThat(unsigned(out.get(1))).containsExactly(0, 1, 0);
  }

  @Test
  void comparesTheLikelierClassInFp32() throws Exception {
    // At threshold 0.5: 0.55 is over it; 0.5 against 0.5 is a tie, upright; NaN never turns a line.
    Pipeline half = compile(orient("{threshold: 0.5}"));
    float[] box = {0, 0, 8, 0, 8, 4, 0, 4};
    List<Tensor> out = run(half, List.of(boxes(box, box, box, box),
        probabilities(0.45f, 0.55f, 0.5f, 0.5f, Float.NaN, Float.NaN, 0.2f, Float.NaN)));
    assertThat(unsigned(out.get(1))).containsExactly(1, 0, 0, 0);

    // At threshold 0: a line likelier upside down is turned however unsure; an FP32 0.9 is not over 0.9.
    assertThat(unsigned(run(compile(orient("{threshold: 0}")), List.of(boxes(box, box),
        probabilities(0.49f, 0.51f, 0.51f, 0.49f))).get(1))).containsExactly(1, 0);
    assertThat(unsigned(run(compile(orient("{}")), List.of(boxes(box), probabilities(0.1f, 0.9f))).get(1)))
        .containsExactly(0);
  }

  @Test
  void noLinesGiveNoLines() throws Exception {
    List<Tensor> out = run(compile(orient("{}")), List.of(boxes(), probabilities()));

    assertThat(out.get(0).shape()).containsExactly(0, 4, 2);
    assertThat(out.get(1).shape()).containsExactly(0);
  }

  @Test
  void refusesParamsAndInputsItCannotTake() {
    assertThat(problems(orient("{threshold: 1.5}")))
        .containsExactly("pipeline.yaml: node 'n': params.threshold: is 1.5 (expected: a number from 0 to 1)");
    assertThat(problems(orient("{level: 1}")))
        .containsExactly("pipeline.yaml: node 'n': params.level: unknown parameter (expected one of: threshold)");
    assertThat(problems(orient("{}", new long[] {-1, 4, 3}, new long[] {-1, 2})))
        .containsExactly("pipeline.yaml: node 'n': inputs.boxes: FP32[-1,4,3] (expected: FP32 [lines, 4, 2], 4"
            + " corners (x, y) per line)");
    assertThat(problems(orient("{}", new long[] {-1, 4, 2}, new long[] {-1, 3})))
        .containsExactly("pipeline.yaml: node 'n': inputs.probabilities: FP32[-1,3] (expected: FP32 [lines, 2],"
            + " p(0) and p(180) per line)");
    assertThat(problems(orient("{}", new long[] {2, 4, 2}, new long[] {3, 2})))
        .containsExactly("pipeline.yaml: node 'n': inputs.probabilities: shape [3,2] (expected: 2 rows, one per"
            + " line of inputs.boxes [2,4,2])");
    assertThat(problems(yaml("ocr.orient", "{}", List.of(TensorSpec.of("boxes", DataType.FP64, -1, 4, 2),
        TensorSpec.of("probabilities", DataType.FP32, -1, 2)), "boxes")))
        .containsExactly("pipeline.yaml: node 'n': inputs.boxes: FP64[-1,4,2] (expected: FP32 [lines, 4, 2], 4"
            + " corners (x, y) per line)");
  }

  @Test
  void refusesRequestsWhoseShapesDoNotFit() throws Exception {
    Pipeline pipeline = compile(orient("{}", new long[] {-1, -1, -1}, new long[] {-1, -1}));
    float[] box = {0, 0, 8, 0, 8, 4, 0, 4};

    assertThat(invalidInput(pipeline, List.of(boxes(box, box), probabilities(0.5f, 0.5f))))
        .isEqualTo("pipeline 'p': node 'n': input 'probabilities': shape [1,2] (expected: 2 rows, one per line of"
            + " input 'boxes' [2,4,2])");
    assertThat(invalidInput(pipeline, List.of(Tensor.ofFloats("boxes", new long[] {1, 2, 4}, box),
        probabilities(0.5f, 0.5f))))
        .isEqualTo("pipeline 'p': node 'n': input 'boxes': FP32[1,2,4] (expected: FP32 [lines, 4, 2], 4 corners"
            + " (x, y) per line)");
    assertThat(invalidInput(pipeline, List.of(boxes(box),
        Tensor.ofFloats("probabilities", new long[] {1, 1}, new float[] {1}))))
        .isEqualTo("pipeline 'p': node 'n': input 'probabilities': FP32[1,1] (expected: FP32 [lines, 2], p(0) and"
            + " p(180) per line)");
  }
}
