package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.floats;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.longs;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.uint8;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.DataType;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.Pipeline;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ocr.crop: boxes rectified by a perspective transform, turned when tall, resized and normalised into one padded
 * batch; values computed by hand, most with {@code scale: 1, mean: 0, std: 1} so a line holds the pixels' values.
 */
class OcrCropOperatorTest {
  private static final String RAW = "scale: 1, mean: 0, std: 1";

  private static String crop(String params, long channels) {
    return yaml("ocr.crop", params, List.of(TensorSpec.of("pixels", DataType.UINT8, -1, -1, channels),
        TensorSpec.of("boxes", DataType.FP32, -1, 4, 2)), "lines", "widths");
  }

  /** Boxes [N, 4, 2] of corners (x0, y0, x1, y1, x2, y2, x3, y3), one array per box. */
  private static Tensor boxes(float[]... corners) {
    float[] values = new float[corners.length * 8];
    for (int n = 0; n < corners.length; n++) {
      System.arraycopy(corners[n], 0, values, n * 8, 8);
    }
    return Tensor.ofFloats("boxes", new long[] {corners.length, 4, 2}, values);
  }

  /** The axis-aligned box from (left, top) to (right, bottom), clockwise from the top left. */
  private static float[] box(float left, float top, float right, float bottom) {
    return new float[] {left, top, right, top, right, bottom, left, bottom};
  }

  @Test
  void cutsAnAxisAlignedBoxToExactlyItsPixels() throws Exception {
    Pipeline pipeline = compile(crop("{height: 2, min_width: 4, max_width: 8, " + RAW + "}", 1));
    assertThat(pipeline.signature().outputs().toString()).isEqualTo("[lines:FP32[-1,1,2,-1], widths:INT64[-1]]");

    // 5 wide, 3 high: pixel (x, y) is 10 * (5y + x). The box from (1, 1) to (4, 3) is the 3 x 2 pixels of columns
    // 1 to 3 and rows 1 and 2: the transform is a translation and samples pixel centres. At height 2 it keeps its
    // width, ceil(2 * 3 / 2) = 3, padded with 0 to min_width 4.
    Tensor image = uint8("pixels", new long[] {3, 5, 1}, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130,
        140);
    List<Tensor> out = run(pipeline, List.of(image, boxes(box(1, 1, 4, 3))));

    assertThat(out.get(0).shape()).containsExactly(1, 1, 2, 4);
    assertThat(floats(out.get(0))).containsExactly(
        60, 70, 80, 0,
        110, 120, 130, 0);
    assertThat(longs(out.get(1))).containsExactly(3);
  }

  @Test
  void normalisesToMinusOneToOneChannelsFirstByDefault() throws Exception {
    Pipeline pipeline = compile(crop("{height: 1, min_width: 3}", 3));

    // One row of two pixels, (0, 51, 255) and (255, 0, 51); (p / 255 - 0.5) / 0.5 maps 0, 51, 255 to -1, -0.6, 1.
    List<Tensor> out = run(pipeline, List.of(uint8("pixels", new long[] {1, 2, 3}, 0, 51, 255, 255, 0, 51),
        boxes(box(0, 0, 2, 1))));

    assertThat(out.get(0).shape()).containsExactly(1, 3, 1, 3);
    assertThat(floats(out.get(0))).containsExactly(
        -1, 1, 0,
        -0.6f, -1, 0,
        1, -0.6f, 0);
  }

  @Test
  void repeatsTheEdgePixelsOutsideTheImage() throws Exception {
    Pipeline pipeline = compile(crop("{height: 1, min_width: 4, " + RAW + "}", 1));

    // One row 10, 20, 30; the box from x = -2 to 2 samples the centres -1.5 to 1.5, pixels -2 to 1: the two
    // outside take the edge pixel, 10.
    List<Tensor> out = run(pipeline, List.of(uint8("pixels", new long[] {1, 3, 1}, 10, 20, 30),
        boxes(box(-2, 0, 2, 1))));

    assertThat(floats(out.get(0))).containsExactly(10, 10, 10, 20);
  }

  @Test
  void turnsTheCropWhenTheCornersStartFromAnotherOne() throws Exception {
    // 3 wide, 2 high: rows 1 2 3 and 4 5 6. Listed from the top right, clockwise: (3, 0), (3, 2), (0, 2), (0, 0).
    // The rectangle is |(3, 0) - (3, 2)| = 2 wide and 3 high, its x running down the image's right edge and its y
    // leftwards: its pixel (u, v) is the image's (2 - v, u), the image turned 90 degrees counter-clockwise.
    Tensor image = uint8("pixels", new long[] {2, 3, 1}, 1, 2, 3, 4, 5, 6);
    Tensor fromTopRight = boxes(new float[] {3, 0, 3, 2, 0, 2, 0, 0});

    Pipeline upright = compile(crop("{height: 3, min_width: 2, rotate_tall: 0, " + RAW + "}", 1));
    Tensor line = run(upright, List.of(image, fromTopRight)).get(0);
    assertThat(line.shape()).containsExactly(1, 1, 3, 2);
    assertThat(floats(line)).containsExactly(
        3, 6,
        2, 5,
        1, 4);

    // 3 high over 2 wide is 1.5, the default rotate_tall: turned counter-clockwise once more, the image upside down.
    Pipeline turning = compile(crop("{height: 2, min_width: 3, " + RAW + "}", 1));
    assertThat(floats(run(turning, List.of(image, fromTopRight)).get(0))).containsExactly(
        6, 5, 4,
        3, 2, 1);
  }

  @Test
  void turnsATallCropCounterClockwiseUnlessRotateTallIsZero() throws Exception {
    // 2 wide, 4 high: rows 1 2, 3 4, 5 6, 7 8; the box is the whole image, twice as high as wide.
    Tensor image = uint8("pixels", new long[] {4, 2, 1}, 1, 2, 3, 4, 5, 6, 7, 8);
    Tensor whole = boxes(box(0, 0, 2, 4));

    // Turned: the right column, top to bottom, becomes the top row; 4 wide at height 2.
    List<Tensor> turned = run(compile(crop("{height: 2, min_width: 4, " + RAW + "}", 1)), List.of(image, whole));
    assertThat(floats(turned.get(0))).containsExactly(
        2, 4, 6, 8,
        1, 3, 5, 7);

    // Kept standing and resized to height 2, width ceil(2 * 2 / 4) = 1: scale 2 both ways, so each pixel is the
    // mean of a 2 x 2 block, halves up: (1 + 2 + 3 + 4) / 4 = 2.5 -> 3 and (5 + 6 + 7 + 8) / 4 = 6.5 -> 7.
    List<Tensor> standing = run(compile(crop("{height: 2, min_width: 2, rotate_tall: 0, " + RAW + "}", 1)),
        List.of(image, whole));
    assertThat(floats(standing.get(0))).containsExactly(
        3, 0,
        7, 0);
    assertThat(longs(standing.get(1))).containsExactly(1);
  }

  @Test
  void rectifiesATrapezoid() throws Exception {
    Pipeline pipeline = compile(crop("{height: 4, min_width: 8, max_width: 8, " + RAW + "}", 1));
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("lines:FP32[-1,1,4,8]");

    // 8 wide, 4 high: pixel (x, y) is 10x + 40y, so a bilinear sample at (sx, sy) is 10 sx + 40 sy.
    int[] ramp = new int[32];
    for (int i = 0; i < ramp.length; i++) {
      ramp[i] = 10 * (i % 8) + 40 * (i / 8);
    }
    // The trapezoid (2, 0), (6, 0), (8, 4), (0, 4): width max(4, 8) = 8, height round(sqrt(2^2 + 4^2)) =
    // round(4.47) = 4. The homography taking (0, 0), (8, 0), (8, 4), (0, 4) to it, solved by hand:
    // x = (u / 2 - v / 2 + 2) / (1 - v / 8), y = (v / 2) / (1 - v / 8). Pixel (u, v) samples at (x - 0.5, y - 0.5)
    // with (u, v) its centre, (u + 0.5, v + 0.5), at height 4 the line as it is:
    //   (0, 0): centre (0.5, 0.5), denominator 0.9375: x = 2 / 0.9375 = 2.133, y = 0.25 / 0.9375 = 0.267; samples
    //           (1.633, -0.233), the row above clamped to 0: 16.33 -> 16.
    //   (7, 0): x = 5.5 / 0.9375 = 5.867: 53.67 -> 54.
    //   (0, 3): centre (0.5, 3.5), denominator 0.5625: x = 0.5 / 0.5625 = 0.889, y = 1.75 / 0.5625 = 3.111;
    //           samples (0.389, 2.611): 3.89 + 104.44 = 108.33 -> 108.
    //   (7, 3): x = 4 / 0.5625 = 7.111, samples (6.611, 2.611): 66.11 + 104.44 = 170.56 -> 171.
    float[] line = floats(run(pipeline, List.of(uint8("pixels", new long[] {4, 8, 1}, ramp),
        boxes(new float[] {2, 0, 6, 0, 8, 4, 0, 4}))).get(0));

    assertThat(line).hasSize(32);
    assertThat(new float[] {line[0], line[7], line[24], line[31]}).containsExactly(16, 54, 108, 171);
  }

  @Test
  void padsTheBatchToItsWidestLineAndSqueezesLinesOverMaxWidth() throws Exception {
    // 6 wide, 2 high: 10 to 60, then 70 to 120. Box 0 is the whole image (6 x 2), box 1 its left 2 x 2.
    Tensor image = uint8("pixels", new long[] {2, 6, 1}, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120);
    Tensor two = boxes(box(0, 0, 6, 2), box(0, 0, 2, 2));

    // At height 2 the lines are 6 and 2 wide: the batch is 6 wide (over min_width 4), the second padded with 0.
    List<Tensor> wide = run(compile(crop("{height: 2, min_width: 4, max_width: 8, " + RAW + "}", 1)),
        List.of(image, two));
    assertThat(wide.get(0).shape()).containsExactly(2, 1, 2, 6);
    assertThat(floats(wide.get(0))).containsExactly(
        10, 20, 30, 40, 50, 60,
        70, 80, 90, 100, 110, 120,
        10, 20, 0, 0, 0, 0,
        70, 80, 0, 0, 0, 0);
    assertThat(longs(wide.get(1))).containsExactly(6, 2);

    // With max_width 4 the first is squeezed from 6 to 4: scale 1.5, sampling x = 0.25, 1.75, 3.25, 4.75, so
    // 10 * 0.75 + 20 * 0.25 = 12.5 -> 13, 20 * 0.25 + 30 * 0.75 = 27.5 -> 28, 42.5 -> 43, 57.5 -> 58 (halves up).
    List<Tensor> squeezed = run(compile(crop("{height: 2, min_width: 4, max_width: 4, " + RAW + "}", 1)),
        List.of(image, two));
    assertThat(floats(squeezed.get(0))).containsExactly(
        13, 28, 43, 58,
        73, 88, 103, 118,
        10, 20, 0, 0,
        70, 80, 0, 0);
    assertThat(longs(squeezed.get(1))).containsExactly(4, 2);

    // No boxes: no lines, min_width wide.
    List<Tensor> none = run(compile(crop("{height: 2, min_width: 4, " + RAW + "}", 1)),
        List.of(image, Tensor.ofFloats("boxes", new long[] {0, 4, 2}, new float[0])));
    assertThat(none.get(0).shape()).containsExactly(0, 1, 2, 4);
    assertThat(none.get(1).shape()).containsExactly(0);
  }

  @Test
  void refusesDegenerateBoxesNamingThem() throws Exception {
    Pipeline pipeline = compile(crop("{}", 1));
    Tensor image = uint8("pixels", new long[] {2, 2, 1}, 1, 2, 3, 4);
    String expected = " is degenerate or not clockwise (expected: 4 finite corners, clockwise from the top left, of a"
        + " convex quadrilateral with no three on a line)";

    // Three corners on a line, after a good box.
    assertThat(invalidInput(pipeline, List.of(image, boxes(box(0, 0, 2, 2), new float[] {0, 0, 4, 0, 8, 0, 4, 4}))))
        .isEqualTo("pipeline 'p': node 'n': input 'boxes': box 1 (0.0, 0.0) (4.0, 0.0) (8.0, 0.0) (4.0, 4.0)"
            + expected);
    // No area, a corner that is not a number, counter-clockwise (a mirror image).
    assertThat(invalidInput(pipeline, List.of(image, boxes(box(1, 1, 1, 1)))))
        .isEqualTo("pipeline 'p': node 'n': input 'boxes': box 0 (1.0, 1.0) (1.0, 1.0) (1.0, 1.0) (1.0, 1.0)"
            + expected);
    assertThat(invalidInput(pipeline, List.of(image, boxes(box(0, 0, Float.NaN, 2)))))
        .isEqualTo("pipeline 'p': node 'n': input 'boxes': box 0 (0.0, 0.0) (NaN, 0.0) (NaN, 2.0) (0.0, 2.0)"
            + expected);
    assertThat(invalidInput(pipeline, List.of(image, boxes(new float[] {0, 0, 0, 2, 2, 2, 2, 0}))))
        .isEqualTo("pipeline 'p': node 'n': input 'boxes': box 0 (0.0, 0.0) (0.0, 2.0) (2.0, 2.0) (2.0, 0.0)"
            + expected);
    assertThat(invalidInput(pipeline, List.of(image, boxes(box(0, 0, 3e9f, 1)))))
        .isEqualTo("pipeline 'p': node 'n': input 'boxes': box 0 has a side of 3.0E9 pixels (expected: at most"
            + " 2147483647)");
  }

  @Test
  void refusesParamsAndInputsItCannotTake() {
    assertThat(problems(crop("{min_width: 320, max_width: 100}", 3)))
        .containsExactly("pipeline.yaml: node 'n': params.max_width: is 100 (expected: an integer from 320 to"
            + " 65535)");
    assertThat(problems(crop("{rotate_tall: 0.5}", 3)))
        .containsExactly("pipeline.yaml: node 'n': params.rotate_tall: is 0.5 (expected: 0, to never turn a crop,"
            + " or a ratio of 1 or more)");
    assertThat(problems(crop("{mean: [0.5, 0.5]}", 3)))
        .containsExactly("pipeline.yaml: node 'n': params.mean: 2 numbers (expected: 1 or 3, as inputs.pixels"
            + " [-1,-1,3] has 3 channels)");
    assertThat(problems(crop("{std: 0}", 3)))
        .containsExactly("pipeline.yaml: node 'n': params.std: is [0.0] (expected: numbers other than 0)");
    assertThat(problems(yaml("ocr.crop", "{}", List.of(TensorSpec.of("pixels", DataType.UINT8, -1, -1, 3),
        TensorSpec.of("boxes", DataType.FP32, -1, 4, 3)), "lines")))
        .containsExactly("pipeline.yaml: node 'n': inputs.boxes: FP32[-1,4,3] (expected: FP32 [boxes, 4, 2], 4"
            + " corners (x, y) per box)");
  }
}
