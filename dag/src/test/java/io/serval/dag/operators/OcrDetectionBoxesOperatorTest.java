package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.floats;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.uint8;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.serval.core.DataType;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.Pipeline;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ocr.db_boxes: a synthetic probability map with rectangles of known probabilities, whose boxes are computed by
 * hand through every step (the rectangle around the pixel centres, its score, the unclip distance, the scaling to
 * an original of another size, the clipping, the order), and every refusal's exact message.
 */
class OcrDetectionBoxesOperatorTest {
  private static final int WIDTH = 80;
  private static final int HEIGHT = 60;

  private static Pipeline boxes(String params, String mapDims, String imageDims) throws Exception {
    return compile(definition(params, "FP32", mapDims, "UINT8", imageDims));
  }

  private static String definition(String params, String mapType, String mapDims, String imageType,
      String imageDims) {
    return yaml("ocr.db_boxes", params, List.of(TensorSpec.of("probabilities", DataType.valueOf(mapType),
        dims(mapDims)), TensorSpec.of("image", DataType.valueOf(imageType), dims(imageDims))), "boxes", "scores");
  }

  private static long[] dims(String dims) {
    return Arrays.stream(dims.substring(1, dims.length() - 1).split(",")).mapToLong(d -> Long.parseLong(d.trim()))
        .toArray();
  }

  private static List<Tensor> detect(Pipeline pipeline, float[] map, long[] mapShape, int imageHeight,
      int imageWidth) throws Exception {
    return run(pipeline, List.of(Tensor.ofFloats("probabilities", mapShape, map),
        uint8("image", new long[] {imageHeight, imageWidth, 1}, new int[imageHeight * imageWidth])));
  }

  /** Sets the pixels from (x0, y0) to (x1, y1), both included, of an 80 x 60 map to {@code value}. */
  private static void fill(float[] map, int x0, int y0, int x1, int y1, float value) {
    for (int y = y0; y <= y1; y++) {
      Arrays.fill(map, y * WIDTH + x0, y * WIDTH + x1 + 1, value);
    }
  }

  /**
   * The 80 x 60 map of the main test, 0 where not said otherwise:
   *
   * <ul>
   *   <li>A: x 4 to 23, y 5 to 10 at 0.9, but for a hole of 0 at (13, 7);
   *   <li>B: x 40 to 59, y 4 to 9 at 0.9, its top row at 0.45 (over the threshold, so text);
   *   <li>C: turned, the pixels whose centres are in the rectangle of corners (20, 25), (36, 37), (33, 41) and
   *       (17, 29) (sides (16, 12), 20 long, and (-3, 4), 5 long), at 0.9. Its corners are pixel centres, so the
   *       hull of the centres inside is the rectangle itself, exactly;
   *   <li>D: x 50 to 59, y 20 to 25 at 0.5: text, but scored under 0.6;
   *   <li>E: x 70 to 72, y 30 to 32 at 0.9: a rectangle of 2 x 2 between centres, under min_size 3;
   *   <li>F: x 64 to 79, y 50 to 55 at 0.7, against the right edge.
   * </ul>
   */
  private static float[] map() {
    float[] map = new float[WIDTH * HEIGHT];
    fill(map, 4, 5, 23, 10, 0.9f);
    map[7 * WIDTH + 13] = 0;
    fill(map, 40, 4, 59, 9, 0.9f);
    fill(map, 40, 4, 59, 4, 0.45f);
    for (int y = 0; y < HEIGHT; y++) {
      for (int x = 0; x < WIDTH; x++) {
        int along = (x - 20) * 16 + (y - 25) * 12;
        int across = -(x - 20) * 3 + (y - 25) * 4;
        if (along >= 0 && along <= 400 && across >= 0 && across <= 25) {
          map[y * WIDTH + x] = 0.9f;
        }
      }
    }
    fill(map, 50, 20, 59, 25, 0.5f);
    fill(map, 70, 30, 72, 32, 0.9f);
    fill(map, 64, 50, 79, 55, 0.7f);
    return map;
  }

  private static float[] box(float[] boxes, int index) {
    return Arrays.copyOfRange(boxes, index * 8, index * 8 + 8);
  }

  @Test
  void findsTheBoxesGrowsThemAndScalesThemToTheImage() throws Exception {
    Pipeline pipeline = boxes("{}", "[1, 1, -1, -1]", "[-1, -1, 1]");
    assertThat(pipeline.signature().outputs().toString()).isEqualTo("[boxes:FP32[-1,4,2], scores:FP32[-1]]");

    // The map is 80 x 60 and the image 120 x 120: x is scaled by 120 / 80 = 1.5, y by 120 / 60 = 2.
    List<Tensor> out = detect(pipeline, map(), new long[] {1, 1, HEIGHT, WIDTH}, 120, 120);
    Tensor boxes = out.get(0);
    Tensor scores = out.get(1);

    // D (score 0.5) and E (2 x 2) are dropped; the rest are ordered A, B, C, F (below).
    assertThat(boxes.shape()).containsExactly(4, 4, 2);
    assertThat(scores.shape()).containsExactly(4);
    float[] corners = floats(boxes);
    // A: the centres span x 4 to 23 and y 5 to 10, a rectangle of 19 x 5: area 95, perimeter 48, so it grows by
    // d = 95 * 1.5 / 48 = 2.96875 on every side: x 1.03125 to 25.96875, y 2.03125 to 12.96875. Scaled: x 1.546875
    // to 38.953125, y 4.0625 to 25.9375. Its score is the mean over the 20 x 6 pixels in it, the hole included:
    // (119 * 0.9 + 0) / 120 = 0.8925.
    assertThat(box(corners, 0)).containsExactly(
        1.546875f, 4.0625f, 38.953125f, 4.0625f, 38.953125f, 25.9375f, 1.546875f, 25.9375f);
    // B: 19 x 5 again, d = 2.96875: x 37.03125 to 61.96875, y 1.03125 to 11.96875; scaled x 55.546875 to 92.953125,
    // y 2.0625 to 23.9375. Score (20 * 0.45 + 100 * 0.9) / 120 = 0.825.
    assertThat(box(corners, 1)).containsExactly(
        55.546875f, 2.0625f, 92.953125f, 2.0625f, 92.953125f, 23.9375f, 55.546875f, 23.9375f);
    // C: 20 x 5, area 100, perimeter 50, d = 3. Along its sides, u = (0.8, 0.6) and v = (-0.6, 0.8): (20, 25) - 3u -
    // 3v = (19.4, 20.8), (36, 37) + 3u - 3v = (40.2, 36.4), (33, 41) + 3u + 3v = (33.6, 45.2), (17, 29) - 3u + 3v =
    // (12.8, 29.6). Scaled: (29.1, 41.6) (x + y = 70.7, the least: first), (60.3, 72.8), (50.4, 90.4), (19.2,
    // 59.2), clockwise as seen. The pixels in the rectangle are C's own: score 0.9. Only rounding to FP32 differs.
    assertThat(box(corners, 2)).containsExactly(
        new float[] {29.1f, 41.6f, 60.3f, 72.8f, 50.4f, 90.4f, 19.2f, 59.2f}, within(1e-4f));
    // F: 15 x 5, area 75, perimeter 40, d = 75 * 1.5 / 40 = 2.8125: x 61.1875 to 81.8125, y 47.1875 to 57.8125.
    // Scaled: x 91.78125 to 122.71875, clipped to 119 (the image's last column), y 94.375 to 115.625. Score 0.7.
    assertThat(box(corners, 3)).containsExactly(
        91.78125f, 94.375f, 119f, 94.375f, 119f, 115.625f, 91.78125f, 115.625f);
    // Order: sorted by the first corner's y, B (2.0625) comes before A (4.0625); but their y differ by 2, under
    // 10, and A's x is smaller, so A moves ahead of B: they are one line, read left to right. C (41.6) and F
    // (94.375) are lines of their own.
    assertThat(floats(scores)).containsExactly(new float[] {0.8925f, 0.825f, 0.9f, 0.7f}, within(1e-6f));
  }

  @Test
  void takesAMapWithoutItsChannelAxisAlike() throws Exception {
    List<Tensor> fourAxes = detect(boxes("{}", "[1, 1, -1, -1]", "[-1, -1, -1]"), map(),
        new long[] {1, 1, HEIGHT, WIDTH}, 120, 120);
    List<Tensor> threeAxes = detect(boxes("{}", "[1, -1, -1]", "[-1, -1, -1]"), map(),
        new long[] {1, HEIGHT, WIDTH}, 120, 120);

    assertThat(floats(threeAxes.get(0))).containsExactly(floats(fourAxes.get(0)));
    assertThat(floats(threeAxes.get(1))).containsExactly(floats(fourAxes.get(1)));
  }

  @Test
  void parametersMoveTheThresholdsTheGrowthAndTheNumberOfRegions() throws Exception {
    // At most one region: the first found row by row is B (its top row, 4, is above A's, 5), so only B is left.
    List<Tensor> first = detect(boxes("{max_candidates: 1}", "[1, 1, -1, -1]", "[-1, -1, 1]"), map(),
        new long[] {1, 1, HEIGHT, WIDTH}, 120, 120);
    assertThat(floats(first.get(1))).containsExactly(new float[] {0.825f}, within(1e-6f));

    // A threshold of 0.5 leaves B's top row (0.45) out: B's rectangle is now y 5 to 9, 19 x 4 (area 76, perimeter
    // 46), all at 0.9. A box threshold of 0.5 keeps D (0.5, as much as the threshold); but D's pixels, at 0.5, are
    // no longer over the threshold of 0.5: D is gone as a region before it is scored.
    List<Tensor> strict = detect(boxes("{threshold: 0.5, box_threshold: 0.5}", "[1, 1, -1, -1]", "[-1, -1, 1]"),
        map(), new long[] {1, 1, HEIGHT, WIDTH}, 120, 120);
    assertThat(strict.get(0).shape()).containsExactly(4, 4, 2);
    assertThat(floats(strict.get(1))).containsExactly(new float[] {0.8925f, 0.9f, 0.9f, 0.7f}, within(1e-6f));
    // A box threshold of 0.5 with the default threshold scores D: 9 x 5, its 60 pixels at 0.5, kept. It grows by
    // d = 45 * 1.5 / 28 = 2.4107...: its first corner is at ((50 - d) * 1.5, (20 - d) * 2) = (71.38, 35.18), above
    // C's (29.1, 41.6). But their y differ by 6.42, under 10, and C's x is smaller: one line, C first, then D.
    List<Tensor> lenient = detect(boxes("{box_threshold: 0.5}", "[1, 1, -1, -1]", "[-1, -1, 1]"), map(),
        new long[] {1, 1, HEIGHT, WIDTH}, 120, 120);
    assertThat(floats(lenient.get(1))).containsExactly(new float[] {0.8925f, 0.825f, 0.9f, 0.5f, 0.7f},
        within(1e-6f));
    double d = 45 * 1.5 / 28;
    assertThat(box(floats(lenient.get(0)), 3)).containsExactly(new float[] {
        (float) ((50 - d) * 1.5), (float) ((20 - d) * 2), (float) ((59 + d) * 1.5), (float) ((20 - d) * 2),
        (float) ((59 + d) * 1.5), (float) ((25 + d) * 2), (float) ((50 - d) * 1.5), (float) ((25 + d) * 2)},
        within(1e-4f));

    // No growth (unclip_ratio 0), on an image the map's size: the boxes are the rectangles between the centres.
    // A 19 x 5 rectangle is kept (5 >= min_size + 2); with min_size 4, 5 is under 4 + 2 and every box is dropped
    // (E is 2 x 2; C is 20 x 5 too).
    List<Tensor> bare = detect(boxes("{unclip_ratio: 0}", "[1, 1, -1, -1]", "[-1, -1, 1]"), map(),
        new long[] {1, 1, HEIGHT, WIDTH}, HEIGHT, WIDTH);
    assertThat(box(floats(bare.get(0)), 0)).containsExactly(4, 5, 23, 5, 23, 10, 4, 10);
    assertThat(bare.get(0).shape()).containsExactly(4, 4, 2);
    assertThat(detect(boxes("{unclip_ratio: 0, min_size: 4}", "[1, 1, -1, -1]", "[-1, -1, 1]"), map(),
        new long[] {1, 1, HEIGHT, WIDTH}, HEIGHT, WIDTH).get(0).shape()).containsExactly(0, 4, 2);
  }

  @Test
  void dropsBoxesThatScaledDownAreTooSmall() throws Exception {
    // On an image of 20 x 15, a quarter of the map's size, A's box is (25.96875 - 1.03125) / 4 = 6.23 wide but
    // (12.96875 - 2.03125) / 4 = 2.73 high, under min_size + 1 = 4: dropped, like B, C (26 / 4 = 6.5 by 11 / 4 =
    // 2.75) and F (clipped to 19 - 15.30 = 3.70 wide). G, 40 x 16 pixels (x 0 to 39, y 43 to 58, a row below C's
    // last; 39 x 15, d = 585 * 1.5 / 108 = 8.125), stays: x from 0 (clipped) to (39 + 8.125) / 4 = 11.78125, y from
    // (43 - 8.125) / 4 = 8.71875 to 14 (clipped).
    float[] map = map();
    fill(map, 0, 43, 39, 58, 0.8f);

    List<Tensor> out = detect(boxes("{}", "[1, 1, -1, -1]", "[-1, -1, 1]"), map, new long[] {1, 1, HEIGHT, WIDTH},
        15, 20);

    assertThat(floats(out.get(0))).containsExactly(0, 8.71875f, 11.78125f, 8.71875f, 11.78125f, 14, 0, 14);
    assertThat(floats(out.get(1))).containsExactly(new float[] {0.8f}, within(1e-6f));

    // whole_pixels: each coordinate to the nearest whole pixel (8.71875 -> 9, 11.78125 -> 12).
    List<Tensor> whole = detect(boxes("{whole_pixels: true}", "[1, 1, -1, -1]", "[-1, -1, 1]"), map,
        new long[] {1, 1, HEIGHT, WIDTH}, 15, 20);
    assertThat(floats(whole.get(0))).containsExactly(0, 9, 12, 9, 12, 14, 0, 14);
  }

  @Test
  void findsARectangleTurnedByThirtyDegreesWithinAQuarterPixel() throws Exception {
    // R: centre (40, 30), 40 long and 12 wide, its long sides along (cos 30, sin 30) = (0.866, 0.5). The pixels
    // whose centres are in R are set to 0.9 and the image is the map's size. Their rectangle lies (nearly) inside
    // R: along each side of R, the centres in the pixel-wide band inside it lie at distances from the side that
    // spread evenly (the slope is irrational), 40 or 12 of them, so the nearest are within about 1/12 px of it and
    // the rectangle's sides within about 0.1 px of R's. Its growth by d = area * 1.5 / perimeter is then R's own,
    // 40 * 12 * 1.5 / 104 = 6.92, within 0.02; so the box's corners are within 0.25 px of R's grown by 6.92, and
    // its top edge, 54 px long, within 0.3 degrees of 30. (They come out 0.02 px and 0.02 degrees off.)
    double cos = Math.cos(Math.toRadians(30));
    double sin = Math.sin(Math.toRadians(30));
    float[] map = new float[WIDTH * HEIGHT];
    for (int y = 0; y < HEIGHT; y++) {
      for (int x = 0; x < WIDTH; x++) {
        double along = (x - 40) * cos + (y - 30) * sin;
        double across = -(x - 40) * sin + (y - 30) * cos;
        if (Math.abs(along) <= 20 && Math.abs(across) <= 6) {
          map[y * WIDTH + x] = 0.9f;
        }
      }
    }

    List<Tensor> out = detect(boxes("{}", "[1, 1, -1, -1]", "[-1, -1, 1]"), map, new long[] {1, 1, HEIGHT, WIDTH},
        HEIGHT, WIDTH);

    assertThat(out.get(0).shape()).containsExactly(1, 4, 2);
    float[] corners = floats(out.get(0));
    double grown = 40 * 12 * 1.5 / 104;
    double halfLong = 20 + grown;
    double halfWide = 6 + grown;
    // Clockwise as seen from the top left: (-, -), (+, -), (+, +), (-, +) along and across R.
    double[][] signs = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
    for (int k = 0; k < 4; k++) {
      double x = 40 + signs[k][0] * halfLong * cos - signs[k][1] * halfWide * sin;
      double y = 30 + signs[k][0] * halfLong * sin + signs[k][1] * halfWide * cos;
      assertThat(Math.hypot(corners[2 * k] - x, corners[2 * k + 1] - y)).as("corner %d", k).isLessThan(0.25);
    }
    assertThat(Math.toDegrees(Math.atan2(corners[3] - corners[1], corners[2] - corners[0]))).isCloseTo(30,
        within(0.3));
    // The pixels in the rectangle are R's own.
    assertThat(floats(out.get(1))).containsExactly(0.9f);
  }

  @Test
  void findsNothingInAnEmptyMap() throws Exception {
    List<Tensor> out = detect(boxes("{}", "[1, 1, -1, -1]", "[-1, -1, 1]"), new float[WIDTH * HEIGHT],
        new long[] {1, 1, HEIGHT, WIDTH}, 120, 120);

    assertThat(out.get(0).dataType()).isEqualTo(DataType.FP32);
    assertThat(out.get(0).shape()).containsExactly(0, 4, 2);
    assertThat(out.get(1).shape()).containsExactly(0);
    // A map that is all text is one region, labelled without recursion: one box of the whole map.
    float[] full = new float[WIDTH * HEIGHT];
    Arrays.fill(full, 1);
    Tensor whole = detect(boxes("{}", "[1, 1, -1, -1]", "[-1, -1, 1]"), full, new long[] {1, 1, HEIGHT, WIDTH},
        HEIGHT, WIDTH).get(0);
    assertThat(floats(whole)).containsExactly(0, 0, 79, 0, 79, 59, 0, 59);
  }

  @Test
  void refusesParametersAndInputsThatDoNotFit() {
    String map = "[1, 1, -1, -1]";
    String image = "[-1, -1, 3]";
    assertThat(problems(definition("{threshold: 1.5}", "FP32", map, "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': params.threshold: is 1.5 (expected: a number from 0 to 1)");
    assertThat(problems(definition("{threshold: high}", "FP32", map, "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': params.threshold: is high (expected: a number)");
    assertThat(problems(definition("{box_threshold: -0.1}", "FP32", map, "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': params.box_threshold: is -0.1 (expected: a number from 0 to 1)");
    assertThat(problems(definition("{unclip_ratio: -1}", "FP32", map, "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': params.unclip_ratio: is -1 (expected: a number >= 0)");
    assertThat(problems(definition("{max_candidates: 0}", "FP32", map, "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': params.max_candidates: is 0 (expected: an integer >= 1)");
    assertThat(problems(definition("{min_size: 2.5}", "FP32", map, "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': params.min_size: is 2.5 (expected: an integer >= 1)");
    assertThat(problems(definition("{thresh: 0.3}", "FP32", map, "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': params.thresh: unknown parameter (expected one of: threshold,"
            + " box_threshold, unclip_ratio, max_candidates, min_size, whole_pixels)");
    assertThat(problems(definition("{}", "FP16", map, "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': inputs.probabilities: FP16[1,1,-1,-1] (expected: FP32 [1, 1,"
            + " height, width] or [1, height, width], the map of one image)");
    assertThat(problems(definition("{}", "FP32", "[2, 1, -1, -1]", "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': inputs.probabilities: FP32[2,1,-1,-1] (expected: FP32 [1, 1,"
            + " height, width] or [1, height, width], the map of one image)");
    assertThat(problems(definition("{}", "FP32", "[-1, -1]", "UINT8", image)))
        .containsExactly("pipeline.yaml: node 'n': inputs.probabilities: FP32[-1,-1] (expected: FP32 [1, 1,"
            + " height, width] or [1, height, width], the map of one image)");
    assertThat(problems(definition("{}", "FP32", map, "FP32", image)))
        .containsExactly("pipeline.yaml: node 'n': inputs.image: FP32[-1,-1,3] (expected: UINT8 [height, width,"
            + " channels], as image.decode makes)");
  }

  @Test
  void refusesMapsThatAreNotOneImagesProbabilities() throws Exception {
    Pipeline pipeline = boxes("{}", "[-1, -1, -1, -1]", "[-1, -1, -1]");
    Tensor image = uint8("image", new long[] {4, 4, 1}, new int[16]);

    assertThat(invalidInput(pipeline, List.of(Tensor.ofFloats("probabilities", new long[] {2, 1, 2, 2},
        new float[8]), image))).isEqualTo("pipeline 'p': node 'n': input 'probabilities': FP32[2,1,2,2] (expected:"
            + " FP32 [1, 1, height, width] or [1, height, width], the map of one image)");
    assertThat(invalidInput(pipeline, List.of(Tensor.ofFloats("probabilities", new long[] {1, 1, 0, 4},
        new float[0]), image))).isEqualTo("pipeline 'p': node 'n': input 'probabilities': shape [1,1,0,4] has no"
            + " pixels (expected: height and width of 1 or more)");
    assertThat(invalidInput(pipeline, List.of(Tensor.ofFloats("probabilities", new long[] {1, 1, 2, 3},
        new float[] {0, 0.5f, 1, 0, 0, Float.NaN}), image))).isEqualTo("pipeline 'p': node 'n': input"
            + " 'probabilities': NaN at row 1, column 2 (expected: probabilities from 0 to 1)");
    // Logits, from a model exported without its sigmoid.
    assertThat(invalidInput(pipeline, List.of(Tensor.ofFloats("probabilities", new long[] {1, 1, 1, 2},
        new float[] {0.25f, -2.5f}), image))).isEqualTo("pipeline 'p': node 'n': input 'probabilities': -2.5 at"
            + " row 0, column 1 (expected: probabilities from 0 to 1)");
    assertThat(invalidInput(pipeline, List.of(Tensor.ofFloats("probabilities", new long[] {1, 1, 1, 1},
        new float[1]), uint8("image", new long[] {0, 4, 1})))).isEqualTo("pipeline 'p': node 'n': input 'image':"
            + " shape [0,4,1] has no pixels (expected: height, width and channels of 1 or more)");
  }
}
