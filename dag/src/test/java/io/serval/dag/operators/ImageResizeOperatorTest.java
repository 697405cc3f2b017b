package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.uint8;
import static io.serval.dag.operators.OperatorHarness.unsigned;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import org.junit.jupiter.api.Test;

/** image.resize: bilinear with half-pixel centers, values computed by hand, and the four modes' sizes. */
class ImageResizeOperatorTest {
  private static Pipeline resize(String params, String dims) throws Exception {
    return compile(yaml("image.resize", params, "pixels", "UINT8", dims, "pixels"));
  }

  @Test
  void exactUpscalesBilinearlyWithHalfPixelCenters() throws Exception {
    Pipeline pipeline = resize("{mode: exact, width: 4, height: 4}", "[-1, -1, 1]");
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("pixels:UINT8[4,4,1]");

    Tensor out = run(pipeline, uint8("pixels", new long[] {2, 2, 1}, 0, 100, 200, 40)).get(0);

    // Scale 2/4 = 0.5; output x samples sx = (x + 0.5) * 0.5 - 0.5, clamped to [0, 1]:
    //   x=0: -0.25 -> 0 (weight 0); x=1: 0.25; x=2: 0.75; x=3: 1.25 -> 1. Rows alike.
    // Along x, row (0, 100) gives 0, 25, 75, 100 and row (200, 40) gives 200, 160, 80, 40.
    // y=1 is 0.75 * top + 0.25 * bottom: 50, 18.75 + 40 = 58.75 -> 59, 56.25 + 20 = 76.25 -> 76, 75 + 10 = 85.
    // y=2 is 0.25 * top + 0.75 * bottom: 150, 6.25 + 120 = 126.25 -> 126, 18.75 + 60 = 78.75 -> 79, 25 + 30 = 55.
    assertThat(out.shape()).containsExactly(4, 4, 1);
    assertThat(unsigned(out)).containsExactly(
        0, 25, 75, 100,
        50, 59, 76, 85,
        150, 126, 79, 55,
        200, 160, 80, 40);
  }

  @Test
  void interpolatesEachChannelAndRoundsHalvesUp() throws Exception {
    Pipeline pipeline = resize("{mode: exact, width: 4, height: 1}", "[1, 2, 2]");

    // Two pixels of two channels: (0, 10) and (2, 30). Weights along x as above: 0, 0.25, 0.75, 0 (at 1).
    // Channel 0: 0, 0.5 -> 1 (a half, rounded up), 1.5 -> 2, 2. Channel 1: 10, 15, 25, 30.
    Tensor out = run(pipeline, uint8("pixels", new long[] {1, 2, 2}, 0, 10, 2, 30)).get(0);

    assertThat(out.shape()).containsExactly(1, 4, 2);
    assertThat(unsigned(out)).containsExactly(0, 10, 1, 15, 2, 25, 2, 30);
  }

  @Test
  void shrinksWithoutAntialiasingAndKeepsASameSizeImage() throws Exception {
    // Scale 4/2 = 2: x=0 samples 0.5 * 2 - 0.5 = 0.5 (between 10 and 20), x=1 samples 2.5 (between 30 and 50).
    Tensor out = run(resize("{mode: exact, width: 2, height: 1}", "[1, 4, 1]"),
        uint8("pixels", new long[] {1, 4, 1}, 10, 20, 30, 50)).get(0);
    assertThat(unsigned(out)).containsExactly(15, 40);

    Tensor same = run(resize("{mode: exact, width: 3, height: 2}", "[2, 3, 1]"),
        uint8("pixels", new long[] {2, 3, 1}, 1, 2, 3, 4, 5, 255)).get(0);
    assertThat(unsigned(same)).containsExactly(1, 2, 3, 4, 5, 255);
  }

  @Test
  void shorterSideScalesTheLongerOneByTheSameRatioRoundedDown() throws Exception {
    Pipeline pipeline = resize("{mode: shorter_side, size: 1}", "[-1, -1, 1]");
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("pixels:UINT8[-1,-1,1]");

    // 3 wide, 2 high, shorter side 2 -> 1: width floor(3 * 1 / 2) = 1. The one pixel samples
    // sx = 0.5 * 3 - 0.5 = 1 (column 1 exactly) and sy = 0.5 * 2 - 0.5 = 0.5: (2 + 7) / 2 = 4.5 -> 5.
    Tensor out = run(pipeline, uint8("pixels", new long[] {2, 3, 1}, 1, 2, 3, 5, 7, 9)).get(0);
    assertThat(out.shape()).containsExactly(1, 1, 1);
    assertThat(unsigned(out)).containsExactly(5);

    // 5 wide, 3 high to a shorter side of 2: width floor(5 * 2 / 3) = floor(3.33) = 3.
    assertThat(run(resize("{mode: shorter_side, size: 2}", "[-1, -1, 3]"),
        uint8("pixels", new long[] {3, 5, 3}, new int[45])).get(0).shape()).containsExactly(2, 3, 3);
    // 2 wide, 5 high to 4: the width is the shorter side, height floor(5 * 4 / 2) = 10.
    assertThat(run(resize("{mode: shorter_side, size: 4}", "[-1, -1, 1]"),
        uint8("pixels", new long[] {5, 2, 1}, new int[10])).get(0).shape()).containsExactly(10, 4, 1);
  }

  @Test
  void keepRatioPadFitsTheImageTopLeftAndPadsTheRest() throws Exception {
    Pipeline pipeline = resize("{mode: keep_ratio_pad, width: 2, height: 2, pad_value: 9}", "[-1, -1, 1]");
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("pixels:UINT8[2,2,1]");

    // 4 wide, 2 high into 2 x 2: the ratio is min(2/4, 2/2) = 0.5, so 2 x 1. Scale 2 both ways: each output pixel
    // samples the middle of a 2 x 2 block, its mean: (0 + 40 + 20 + 60) / 4 = 30, (80 + 120 + 100 + 140) / 4 = 110.
    // The bottom row is padding.
    Tensor wide = run(pipeline, uint8("pixels", new long[] {2, 4, 1}, 0, 40, 80, 120, 20, 60, 100, 140)).get(0);
    assertThat(wide.shape()).containsExactly(2, 2, 1);
    assertThat(unsigned(wide)).containsExactly(30, 110, 9, 9);

    // The same image standing (2 wide, 4 high) becomes 1 x 2, padded on the right.
    Tensor tall = run(pipeline, uint8("pixels", new long[] {4, 2, 1}, 0, 20, 40, 60, 80, 100, 120, 140)).get(0);
    assertThat(unsigned(tall)).containsExactly(30, 9, 110, 9);

    // 3 wide, 1 high into 2 x 2: ratio 2/3, height round(1 * 2 / 3) = round(0.67) = 1; pad_value defaults to 0.
    // sx = (x + 0.5) * 1.5 - 0.5: 0.25 (3 * 0.75 + 6 * 0.25 = 3.75 -> 4) and 1.75 (6 * 0.25 + 9 * 0.75 = 8.25 -> 8).
    Tensor flat = run(resize("{mode: keep_ratio_pad, width: 2, height: 2}", "[-1, -1, 1]"),
        uint8("pixels", new long[] {1, 3, 1}, 3, 6, 9)).get(0);
    assertThat(unsigned(flat)).containsExactly(4, 8, 0, 0);
  }

  @Test
  void heightPadKeepsTheHeightAndSqueezesOnlyLinesWiderThanTheWidth() throws Exception {
    Pipeline pipeline = resize("{mode: height_pad, width: 3, height: 1, pad_value: 9}", "[-1, -1, 1]");
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("pixels:UINT8[1,3,1]");

    // 4 wide, 2 high: the height 2 -> 1 (ratio 1/2), the width ceil(1 * 4 / 2) = 2, each pixel the mean of a 2 x 2
    // block as in keep_ratio_pad's test; the third column is padding.
    Tensor narrow = run(pipeline, uint8("pixels", new long[] {2, 4, 1}, 0, 40, 80, 120, 20, 60, 100, 140)).get(0);
    assertThat(unsigned(narrow)).containsExactly(30, 110, 9);
    // 3 wide, 2 high: ceil(1 * 3 / 2) = ceil(1.5) = 2 (rounded up, as PaddleOCR's math.ceil). sx = (x + 0.5) * 1.5
    // - 0.5 = 0.25, 1.75; sy = 0.5: row means 10, 20, 30, blended (10 * 0.75 + 20 * 0.25 = 12.5 -> 13, 20 * 0.25 +
    // 30 * 0.75 = 27.5 -> 28).
    Tensor rounded = run(pipeline, uint8("pixels", new long[] {2, 3, 1}, 0, 10, 20, 20, 30, 40)).get(0);
    assertThat(unsigned(rounded)).containsExactly(13, 28, 9);
    // 12 wide, 2 high would be 6 wide at height 1: squeezed to the 3 of the width, full height, no padding.
    Tensor wide = run(pipeline, uint8("pixels", new long[] {2, 12, 1}, new int[24])).get(0);
    assertThat(wide.shape()).containsExactly(1, 3, 1);
    assertThat(unsigned(wide)).containsExactly(0, 0, 0);
  }

  @Test
  void refusesModesAndSizesThatDoNotFit() {
    String dims = "[-1, -1, 3]";
    assertThat(problems(yaml("image.resize", "{width: 2, height: 2}", "pixels", "UINT8", dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.mode: missing (expected one of: exact, shorter_side,"
            + " keep_ratio_pad, height_pad, multiple_of)");
    assertThat(problems(yaml("image.resize", "{mode: stretch}", "pixels", "UINT8", dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.mode: is stretch (expected one of: exact, shorter_side,"
            + " keep_ratio_pad, height_pad, multiple_of)");
    assertThat(problems(yaml("image.resize", "{mode: exact, width: 2, height: 2, size: 3}", "pixels", "UINT8",
        dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.size: not used by mode exact (expected: width, height)");
    assertThat(problems(yaml("image.resize", "{mode: shorter_side}", "pixels", "UINT8", dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.size: missing (expected: an integer from 1 to 65535)");
    assertThat(problems(yaml("image.resize", "{mode: exact, width: 0, height: 2}", "pixels", "UINT8", dims,
        "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.width: is 0 (expected: an integer from 1 to 65535)");
    assertThat(problems(yaml("image.resize", "{mode: keep_ratio_pad, width: 2, height: 2, pad_value: 256}",
        "pixels", "UINT8", dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.pad_value: is 256 (expected: an integer from 0 to 255)");
    assertThat(problems(yaml("image.resize", "{mode: exact, width: 2, height: 2}", "pixels", "FP32", dims,
        "pixels")))
        .containsExactly("pipeline.yaml: node 'n': inputs.pixels: FP32[-1,-1,3] (expected: UINT8 [height, width,"
            + " channels], as image.decode makes)");
  }

  @Test
  void multipleOfRoundsEachSideToTheNearestMultipleAfterLimitingTheLongerOne() throws Exception {
    Pipeline pipeline = resize("{mode: multiple_of, multiple: 32, max_side: 960}", "[-1, -1, 1]");
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("pixels:UINT8[-1,-1,1]");

    // 1920 x 1080 (width x height): the longer side 1920 is over 960, so the ratio is 960 / 1920; the width becomes
    // 960 (30 x 32) and the height floor(1080 * 960 / 1920) = 540 = 16.875 x 32, rounded to 17 x 32 = 544.
    assertThat(run(pipeline, uint8("pixels", new long[] {1080, 1920, 1}, new int[1080 * 1920])).get(0).shape())
        .containsExactly(544, 960, 1);
    // 1000 x 999: 960 and floor(999 * 960 / 1000) = floor(959.04) = 959, rounded to 30 x 32 = 960.
    assertThat(run(pipeline, uint8("pixels", new long[] {999, 1000, 1}, new int[999 * 1000])).get(0).shape())
        .containsExactly(960, 960, 1);
    // 200 x 100 is under the limit and kept: 200 = 6.25 x 32 -> 192, 100 = 3.125 x 32 -> 96 (never upscaled first).
    assertThat(run(pipeline, uint8("pixels", new long[] {100, 200, 1}, new int[200 * 100])).get(0).shape())
        .containsExactly(96, 192, 1);
    // Halfway sides go to the even multiple: 48 = 1.5 x 32 -> 2 x 32 = 64, 80 = 2.5 x 32 -> 2 x 32 = 64;
    // 112 = 3.5 x 32 -> 4 x 32 = 128.
    assertThat(run(pipeline, uint8("pixels", new long[] {48, 80, 1}, new int[80 * 48])).get(0).shape())
        .containsExactly(64, 64, 1);
    assertThat(run(pipeline, uint8("pixels", new long[] {112, 112, 1}, new int[112 * 112])).get(0).shape())
        .containsExactly(128, 128, 1);
    // A side under half a multiple still gets one: 15 = 0.47 x 32 -> 0, at least 1 x 32. 16 = 0.5 x 32 -> 0 (even).
    assertThat(run(pipeline, uint8("pixels", new long[] {15, 16, 1}, new int[16 * 15])).get(0).shape())
        .containsExactly(32, 32, 1);
  }

  @Test
  void multipleOfResamplesLikeExact() throws Exception {
    // 2 x 2 to multiples of 4: 2 = 0.5 x 4, halfway, to the even 0, at least one multiple: 4 x 4, the same pixels
    // as exactUpscalesBilinearlyWithHalfPixelCenters computes by hand.
    Tensor out = run(resize("{mode: multiple_of, multiple: 4, max_side: 960}", "[-1, -1, 1]"),
        uint8("pixels", new long[] {2, 2, 1}, 0, 100, 200, 40)).get(0);

    assertThat(out.shape()).containsExactly(4, 4, 1);
    assertThat(unsigned(out)).containsExactly(
        0, 25, 75, 100,
        50, 59, 76, 85,
        150, 126, 79, 55,
        200, 160, 80, 40);
    // A limit that is not a multiple: 100 x 10 to max_side 50 gives 50 x 5; 50 = 12.5 x 4 -> 12 x 4 = 48 (even),
    // 5 = 1.25 x 4 -> 4.
    assertThat(run(resize("{mode: multiple_of, multiple: 4, max_side: 50}", "[-1, -1, 3]"),
        uint8("pixels", new long[] {10, 100, 3}, new int[3000])).get(0).shape()).containsExactly(4, 48, 3);
  }

  @Test
  void refusesMultipleOfParametersThatDoNotFit() {
    String dims = "[-1, -1, 3]";
    assertThat(problems(yaml("image.resize", "{mode: multiple_of, max_side: 960}", "pixels", "UINT8", dims,
        "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.multiple: missing (expected: an integer from 1 to 65535)");
    assertThat(problems(yaml("image.resize", "{mode: multiple_of, multiple: 32}", "pixels", "UINT8", dims,
        "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.max_side: missing (expected: an integer from 1 to 65535)");
    assertThat(problems(yaml("image.resize", "{mode: multiple_of, multiple: 0, max_side: 960}", "pixels", "UINT8",
        dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.multiple: is 0 (expected: an integer from 1 to 65535)");
    assertThat(problems(yaml("image.resize", "{mode: multiple_of, multiple: 32, max_side: 65536}", "pixels",
        "UINT8", dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.max_side: is 65536 (expected: an integer from 1 to"
            + " 65535)");
    assertThat(problems(yaml("image.resize", "{mode: multiple_of, multiple: 32, max_side: 960, width: 640}",
        "pixels", "UINT8", dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.width: not used by mode multiple_of (expected: multiple,"
            + " max_side)");
    assertThat(problems(yaml("image.resize", "{mode: shorter_side, size: 32, multiple: 32}", "pixels", "UINT8",
        dims, "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.multiple: not used by mode shorter_side (expected: size)");
  }
}
