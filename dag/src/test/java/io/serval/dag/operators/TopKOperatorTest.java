package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.floats;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.longs;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.strings;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** topk: the k best scores of the last axis, ties to the lower index, with their labels. */
class TopKOperatorTest {
  private static String topk(String params, String dims, String... outputs) {
    return yaml("topk", params, "scores", "FP32", dims, outputs);
  }

  @Test
  void picksTheBestScoresPerRowWithTheirLabels() throws Exception {
    Pipeline pipeline = compile(topk("{k: 2, labels: [cat, dog, bird, fish]}", "[-1, 4]", "indices", "values",
        "labels"));
    assertThat(pipeline.signature().outputs().toString())
        .isEqualTo("[indices:INT64[-1,2], values:FP32[-1,2], labels:BYTES[-1,2]]");

    List<Tensor> out = run(pipeline, Tensor.ofFloats("scores", new long[] {2, 4},
        new float[] {0.1f, 0.7f, 0.7f, 0.2f, -1, 5, 3, 6}));

    // Row 0: 0.7 twice, the lower index (1) first. Row 1: 6 at 3, then 5 at 1.
    assertThat(out.get(0).shape()).containsExactly(2, 2);
    assertThat(longs(out.get(0))).containsExactly(1, 2, 3, 1);
    assertThat(floats(out.get(1))).containsExactly(0.7f, 0.7f, 6, 5);
    assertThat(strings(out.get(2))).containsExactly("dog", "bird", "fish", "dog");
  }

  @Test
  void takesTheBestOneByDefaultAndRanksNanFirst() throws Exception {
    Pipeline best = compile(topk("{}", "[3]", "indices", "values"));
    assertThat(longs(run(best, Tensor.ofFloats("scores", new long[] {3}, new float[] {2, 9, 9})).get(0)))
        .containsExactly(1);

    // NaN ranks above every number, as in NumPy and PyTorch: NaN at 1, NaN at 3, then 2 at 2.
    Pipeline three = compile(topk("{k: 3}", "[-1]", "indices", "values"));
    List<Tensor> out = run(three, Tensor.ofFloats("scores", new long[] {4}, new float[] {1, Float.NaN, 2,
        Float.NaN}));
    assertThat(longs(out.get(0))).containsExactly(1, 3, 2);
    assertThat(floats(out.get(1))).containsExactly(Float.NaN, Float.NaN, 2);
  }

  @Test
  void ordersALargeKByScoreThenIndex() throws Exception {
    // k over 32 sorts the whole row. Scores 0, 1, ..., 33 (at their own index): the best 33 are 33 down to 1.
    float[] rising = new float[34];
    for (int i = 0; i < rising.length; i++) {
      rising[i] = i;
    }
    Pipeline pipeline = compile(topk("{k: 33}", "[1, 34]", "indices", "values"));
    assertThat(longs(run(pipeline, Tensor.ofFloats("scores", new long[] {1, 34}, rising)).get(0)))
        .containsExactly(LongStream.rangeClosed(1, 33).map(i -> 34 - i).toArray());
    // All equal: indices 0 to 32 in order.
    assertThat(longs(run(pipeline, Tensor.ofFloats("scores", new long[] {1, 34}, new float[34])).get(0)))
        .containsExactly(LongStream.range(0, 33).toArray());
  }

  @Test
  void refusesAKLargerThanTheLastAxisAtLoadOrPerRequest() throws Exception {
    assertThat(problems(topk("{k: 5}", "[-1, 4]", "indices")))
        .containsExactly("pipeline.yaml: node 'n': params.k: is 5 (expected: at most 4, the last dimension of"
            + " inputs.scores [-1,4])");
    assertThat(problems(topk("{labels: [a, b, c]}", "[-1, 4]", "indices")))
        .containsExactly("pipeline.yaml: node 'n': params.labels: 3 labels (expected: 4, one per score of"
            + " inputs.scores [-1,4])");
    assertThat(problems(topk("{labels: [1, 2]}", "[-1, 2]", "indices")))
        .containsExactly("pipeline.yaml: node 'n': params.labels: is [1, 2] (expected: a list of strings; quote"
            + " numbers and booleans)");
    assertThat(problems(topk("{k: 0}", "[-1, 2]", "indices")))
        .containsExactly("pipeline.yaml: node 'n': params.k: is 0 (expected: an integer >= 1)");
    assertThat(problems(yaml("topk", "{}", "scores", "INT64", "[-1, 2]", "indices")))
        .containsExactly("pipeline.yaml: node 'n': inputs.scores: INT64 of rank 2 (expected: FP32 of rank 1 or"
            + " more)");
    assertThat(problems(topk("{}", "[-1, 2]", "labels")))
        .containsExactly("pipeline.yaml: outputs[0] 'labels': from: 'n.labels': node 'n' has no output 'labels'"
            + " (expected one of: indices, values)");

    Pipeline open = compile(topk("{k: 4}", "[-1, -1]", "indices"));
    assertThat(invalidInput(open, Tensor.ofFloats("scores", new long[] {1, 3}, new float[3])))
        .isEqualTo("pipeline 'p': node 'n': input 'scores': shape [1,3] has 3 scores along its last axis, fewer"
            + " than k (4)");
    Pipeline labelled = compile(topk("{labels: [a, b]}", "[-1, -1]", "labels"));
    assertThat(invalidInput(labelled, Tensor.ofFloats("scores", new long[] {1, 3}, new float[3])))
        .isEqualTo("pipeline 'p': node 'n': input 'scores': shape [1,3] has 3 scores along its last axis"
            + " (expected: 2, one per label)");
  }
}
