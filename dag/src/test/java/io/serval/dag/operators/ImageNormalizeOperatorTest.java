package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.floats;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.uint8;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import org.junit.jupiter.api.Test;

/** image.normalize: (pixel * scale - mean[c]) / std[c], HWC to CHW. */
class ImageNormalizeOperatorTest {
  private static String normalize(String params, String dims) {
    return yaml("image.normalize", params, "pixels", "UINT8", dims, "tensor");
  }

  @Test
  void normalizesPerChannelAndTurnsHwcToChw() throws Exception {
    Pipeline pipeline = compile(normalize("{scale: 1, mean: [0, 128, 255], std: [1, 2, 0.5]}", "[-1, -1, 3]"));
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("tensor:FP32[3,-1,-1]");

    // One row of two pixels: (0, 128, 255) and (10, 20, 30).
    Tensor out = run(pipeline, uint8("pixels", new long[] {1, 2, 3}, 0, 128, 255, 10, 20, 30)).get(0);

    // Channel 0: (0 - 0) / 1 = 0, (10 - 0) / 1 = 10. Channel 1: (128 - 128) / 2 = 0, (20 - 128) / 2 = -54.
    // Channel 2: (255 - 255) / 0.5 = 0, (30 - 255) / 0.5 = -450.
    assertThat(out.shape()).containsExactly(3, 1, 2);
    assertThat(floats(out)).containsExactly(0, 10, 0, -54, 0, -450);
  }

  @Test
  void scalesByOneOver255AndTakesOneMeanAndStdForEveryChannel() throws Exception {
    Pipeline defaults = compile(normalize("{}", "[-1, -1, 2]"));
    // 51 / 255 = 0.2, 255 / 255 = 1; channels first: (0, 51) then (255, 0).
    assertThat(floats(run(defaults, uint8("pixels", new long[] {1, 2, 2}, 0, 255, 51, 0)).get(0)))
        .containsExactly(0, 0.2f, 1, 0);

    Pipeline shared = compile(normalize("{mean: 0.5, std: [0.25]}", "[-1, -1, 2]"));
    // (0.2 - 0.5) / 0.25 = -1.2, (1 - 0.5) / 0.25 = 2, (0 - 0.5) / 0.25 = -2.
    assertThat(floats(run(shared, uint8("pixels", new long[] {1, 2, 2}, 0, 255, 51, 0)).get(0)))
        .containsExactly(-2, -1.2f, 2, -2);
  }

  @Test
  void refusesListsThatDoNotFitTheChannels() throws Exception {
    assertThat(problems(normalize("{mean: [1, 2]}", "[-1, -1, 3]")))
        .containsExactly("pipeline.yaml: node 'n': params.mean: 2 numbers (expected: 1 or 3, as inputs.pixels"
            + " [-1,-1,3] has 3 channels)");
    assertThat(problems(normalize("{std: [1, 0, 1]}", "[-1, -1, 3]")))
        .containsExactly("pipeline.yaml: node 'n': params.std: is [1.0, 0.0, 1.0] (expected: numbers other than 0)");
    assertThat(problems(normalize("{mean: [a]}", "[-1, -1, 3]")))
        .containsExactly("pipeline.yaml: node 'n': params.mean: is [a] (expected: a list of numbers)");
    assertThat(problems(normalize("{mean: []}", "[-1, -1, 3]")))
        .containsExactly("pipeline.yaml: node 'n': params.mean: is [] (expected: a list of numbers)");

    // Channels known only per request.
    Pipeline open = compile(normalize("{std: [1, 2, 3]}", "[-1, -1, -1]"));
    assertThat(invalidInput(open, uint8("pixels", new long[] {1, 1, 2}, 1, 2)))
        .isEqualTo("pipeline 'p': node 'n': input 'pixels': 2 channels, but params.std: 3 numbers (expected: 1 or"
            + " 2)");
  }
}
