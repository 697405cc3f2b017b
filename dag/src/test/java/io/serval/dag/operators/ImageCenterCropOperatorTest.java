package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.uint8;
import static io.serval.dag.operators.OperatorHarness.unsigned;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import org.junit.jupiter.api.Test;

/** image.center_crop: the centered window, an odd margin's extra row or column left at the bottom or right. */
class ImageCenterCropOperatorTest {
  /** 4 wide, 3 high, 1 channel: row y holds 4y, 4y + 1, 4y + 2, 4y + 3. */
  private static final int[] TWELVE = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

  private static Pipeline crop(String params) throws Exception {
    return compile(yaml("image.center_crop", params, "pixels", "UINT8", "[-1, -1, 1]", "pixels"));
  }

  @Test
  void cutsTheCenteredWindow() throws Exception {
    Pipeline square = crop("{width: 2, height: 2}");
    assertThat(square.signature().outputs().get(0).toString()).isEqualTo("pixels:UINT8[2,2,1]");

    // Top (3 - 2) / 2 = 0, left (4 - 2) / 2 = 1: rows 0 and 1, columns 1 and 2.
    Tensor out = run(square, uint8("pixels", new long[] {3, 4, 1}, TWELVE)).get(0);
    assertThat(out.shape()).containsExactly(2, 2, 1);
    assertThat(unsigned(out)).containsExactly(1, 2, 5, 6);

    // Top (3 - 1) / 2 = 1, left (4 - 3) / 2 = 0: row 1, columns 0 to 2.
    assertThat(unsigned(run(crop("{width: 3, height: 1}"), uint8("pixels", new long[] {3, 4, 1}, TWELVE)).get(0)))
        .containsExactly(4, 5, 6);
    // The whole image is itself.
    assertThat(unsigned(run(crop("{width: 4, height: 3}"), uint8("pixels", new long[] {3, 4, 1}, TWELVE)).get(0)))
        .containsExactly(TWELVE);
  }

  @Test
  void keepsEveryChannelOfAPixel() throws Exception {
    Pipeline pipeline = compile(yaml("image.center_crop", "{width: 1, height: 1}", "pixels", "UINT8",
        "[-1, -1, 2]", "pixels"));
    // 3 wide, 1 high, 2 channels: the middle pixel is (3, 4).
    assertThat(unsigned(run(pipeline, uint8("pixels", new long[] {1, 3, 2}, 1, 2, 3, 4, 5, 6)).get(0)))
        .containsExactly(3, 4);
  }

  @Test
  void refusesACropLargerThanTheImage() throws Exception {
    assertThat(invalidInput(crop("{width: 5, height: 2}"), uint8("pixels", new long[] {3, 4, 1}, TWELVE)))
        .isEqualTo("pipeline 'p': node 'n': input 'pixels': an image of 4 x 3 (width x height) is smaller than the"
            + " crop, 5 x 2");
    assertThat(problems(yaml("image.center_crop", "{width: 2, height: 5}", "pixels", "UINT8", "[3, -1, 1]",
        "pixels")))
        .containsExactly("pipeline.yaml: node 'n': inputs.pixels: shape [3,-1,1]: height 3 is smaller than the"
            + " crop's (params.height: 5)");
    assertThat(problems(yaml("image.center_crop", "{width: 2}", "pixels", "UINT8", "[-1, -1, 1]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.height: missing (expected: an integer from 1 to 65535)");
  }
}
