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

/** image.grayscale (BT.601 luma as Pillow's convert("L")) and image.invert (always, or on a light border). */
class ImageGrayscaleAndInvertTest {
  @Test
  void grayscaleIsTheLumaOfEachPixelAndKeepsGrayUnchanged() throws Exception {
    Pipeline pipeline = compile(yaml("image.grayscale", "{}", "pixels", "UINT8", "[-1, -1, 3]", "pixels"));
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("pixels:UINT8[-1,-1,1]");

    Tensor gray = run(pipeline, uint8("pixels", new long[] {1, 4, 3}, 255, 0, 0, 0, 255, 0, 0, 0, 255, 77, 77, 77))
        .get(0);

    // (255 * 19595 + 32768) >> 16 = 76; (255 * 38470 + 32768) >> 16 = 150; (255 * 7471 + 32768) >> 16 = 29.
    assertThat(gray.shape()).containsExactly(1, 4, 1);
    assertThat(unsigned(gray)).containsExactly(76, 150, 29, 77);
    assertThat(problems(yaml("image.grayscale", "{}", "pixels", "UINT8", "[-1, -1, 4]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': inputs.pixels: [-1,-1,4] has 4 channels (expected: 3, RGB)");
    Pipeline anyChannels = compile(yaml("image.grayscale", "{}", "pixels", "UINT8", "[-1, -1, -1]", "pixels"));
    assertThat(invalidInput(anyChannels, uint8("pixels", new long[] {1, 1, 1}, 9)))
        .isEqualTo("pipeline 'p': node 'n': input 'pixels': shape [1,1,1] (expected: 3 channels, RGB)");
  }

  @Test
  void invertsALightBackgroundOnlyUnlessAskedAlways() throws Exception {
    Pipeline onLight = compile(yaml("image.invert", "{}", "pixels", "UINT8", "[-1, -1, 1]", "pixels"));
    // A dark digit on white paper: border mean 255 > 127, so inverted.
    assertThat(unsigned(run(onLight, uint8("pixels", new long[] {3, 3, 1}, 255, 255, 255, 255, 0, 255, 255, 255,
        255)).get(0))).containsExactly(0, 0, 0, 0, 255, 0, 0, 0, 0);
    // Already light on dark (border mean 0): unchanged.
    assertThat(unsigned(run(onLight, uint8("pixels", new long[] {3, 3, 1}, 0, 0, 0, 0, 200, 0, 0, 0, 0)).get(0)))
        .containsExactly(0, 0, 0, 0, 200, 0, 0, 0, 0);

    Pipeline always = compile(yaml("image.invert", "{when: always}", "pixels", "UINT8", "[-1, -1, 1]", "pixels"));
    assertThat(unsigned(run(always, uint8("pixels", new long[] {1, 2, 1}, 0, 200)).get(0))).containsExactly(255, 55);
    assertThat(problems(yaml("image.invert", "{when: sometimes}", "pixels", "UINT8", "[-1, -1, 1]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.when: is sometimes (expected one of: always,"
            + " light_background)");
  }
}
