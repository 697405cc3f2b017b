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

/** reshape and expand_dims: the same elements under another shape; 0 keeps a dimension, -1 takes the rest. */
class ReshapeOperatorTest {
  private static String reshape(String shape, String dims) {
    return yaml("reshape", "{shape: " + shape + "}", "x", "UINT8", dims, "y");
  }

  @Test
  void keepsDimensionsWhereTheShapeSaysZero() throws Exception {
    Pipeline pipeline = compile(reshape("[0, 1, 3]", "[-1, 3]"));
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("y:UINT8[-1,1,3]");

    Tensor y = run(pipeline, uint8("x", new long[] {2, 3}, 1, 2, 3, 4, 5, 6)).get(0);

    assertThat(y.shape()).containsExactly(2, 1, 3);
    assertThat(unsigned(y)).containsExactly(1, 2, 3, 4, 5, 6);
  }

  @Test
  void anEmptyShapeMakesOneElementASingleValue() throws Exception {
    Pipeline pipeline = compile(reshape("[]", "[-1, 1]"));
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("y:UINT8[]");
    Tensor y = run(pipeline, uint8("x", new long[] {1, 1}, 7)).get(0);
    assertThat(y.shape()).isEmpty();
    assertThat(unsigned(y)).containsExactly(7);
    assertThat(invalidInput(pipeline, uint8("x", new long[] {2, 1}, 7, 8)))
        .isEqualTo("pipeline 'p': node 'n': input 'x': shape [] cannot hold the 2 elements of shape [2,1]");
  }

  @Test
  void minusOneTakesWhatTheElementCountLeaves() throws Exception {
    Pipeline known = compile(reshape("[-1, 2]", "[2, 3]"));
    assertThat(known.signature().outputs().get(0).toString()).isEqualTo("y:UINT8[3,2]");

    Pipeline dynamic = compile(reshape("[-1, 2]", "[-1]"));
    assertThat(run(dynamic, uint8("x", new long[] {4}, 1, 2, 3, 4)).get(0).shape()).containsExactly(2, 2);
    assertThat(invalidInput(dynamic, uint8("x", new long[] {3}, 1, 2, 3)))
        .isEqualTo("pipeline 'p': node 'n': input 'x': shape [-1,2] cannot hold the 3 elements of shape [3]");
  }

  @Test
  void refusesShapesThatCannotWork() {
    assertThat(problems(yaml("reshape", "{}", "x", "UINT8", "[4]", "y")))
        .containsExactly("pipeline.yaml: node 'n': params.shape: missing (expected: a list of dimensions, 0 to keep"
            + " the input's, -1 for the rest, [] for one value)");
    assertThat(problems(reshape("[-1, -1]", "[4]")))
        .containsExactly("pipeline.yaml: node 'n': params.shape: [-1,-1] has 2 dimensions of -1 (expected: at most"
            + " one)");
    assertThat(problems(reshape("[2, -2]", "[4]")))
        .containsExactly("pipeline.yaml: node 'n': params.shape: is [2,-2] (expected: whole numbers >= -1: a"
            + " size, 0 to keep the input's, -1 for the rest)");
    assertThat(problems(reshape("[2.5]", "[4]")))
        .containsExactly("pipeline.yaml: node 'n': params.shape: is [2.5] (expected: a list of whole numbers)");
    assertThat(problems(reshape("[0, 0]", "[4]")))
        .containsExactly("pipeline.yaml: node 'n': params.shape: [0,0] keeps dimension 1 of inputs.x [4], which"
            + " has rank 1");
    assertThat(problems(reshape("[3]", "[2, 2]")))
        .containsExactly("pipeline.yaml: node 'n': params.shape: [3] cannot hold the 4 elements of inputs.x [2,2]");
  }

  @Test
  void expandDimsAddsTheBatchAxisAModelTakes() throws Exception {
    Pipeline pipeline = compile(yaml("expand_dims", "{}", "x", "UINT8", "[3, -1, -1]", "y"));
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("y:UINT8[1,3,-1,-1]");
    Tensor y = run(pipeline, uint8("x", new long[] {3, 1, 1}, 7, 8, 9)).get(0);
    assertThat(y.shape()).containsExactly(1, 3, 1, 1);
    assertThat(unsigned(y)).containsExactly(7, 8, 9);

    Pipeline last = compile(yaml("expand_dims", "{axis: 2}", "x", "UINT8", "[2, 2]", "y"));
    assertThat(last.signature().outputs().get(0).toString()).isEqualTo("y:UINT8[2,2,1]");
    assertThat(problems(yaml("expand_dims", "{axis: 3}", "x", "UINT8", "[2, 2]", "y")))
        .containsExactly("pipeline.yaml: node 'n': params.axis: is 3 (expected: 0 to 2, as inputs.x [2,2] has rank 2)");
  }
}
