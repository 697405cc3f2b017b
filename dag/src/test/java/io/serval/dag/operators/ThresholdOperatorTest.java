package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.unsigned;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.DataType;
import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import org.junit.jupiter.api.Test;

/** threshold: x >= value as BOOL, shape kept. */
class ThresholdOperatorTest {
  @Test
  void marksValuesAtOrOverTheThreshold() throws Exception {
    Pipeline pipeline = compile(yaml("threshold", "{value: 0.5}", "x", "FP32", "[-1, 2]", "mask"));
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("mask:BOOL[-1,2]");

    // 0.5 >= 0.5, 0.49 < 0.5, NaN is never at or over, 1 >= 0.5.
    Tensor mask = run(pipeline, Tensor.ofFloats("x", new long[] {2, 2}, new float[] {0.5f, 0.49f, Float.NaN, 1}))
        .get(0);

    assertThat(mask.dataType()).isEqualTo(DataType.BOOL);
    assertThat(mask.shape()).containsExactly(2, 2);
    assertThat(unsigned(mask)).containsExactly(1, 0, 0, 1);
    // The threshold is compared as FP32: 0.7f is 0.699999988 in double, yet at a threshold of 0.7.
    Pipeline point7 = compile(yaml("threshold", "{value: 0.7}", "x", "FP32", "[-1]", "mask"));
    assertThat(unsigned(run(point7, Tensor.ofFloats("x", new long[] {2}, new float[] {0.7f, 0.69999f})).get(0)))
        .containsExactly(1, 0);
    // An integer threshold works as well: -1 >= -1.
    Pipeline negative = compile(yaml("threshold", "{value: -1}", "x", "FP32", "[-1]", "mask"));
    assertThat(unsigned(run(negative, Tensor.ofFloats("x", new long[] {2}, new float[] {-1, -2})).get(0)))
        .containsExactly(1, 0);
  }

  @Test
  void refusesAMissingOrNonNumericValueAndOtherDatatypes() {
    assertThat(problems(yaml("threshold", "{}", "x", "FP32", "[-1]", "mask")))
        .containsExactly("pipeline.yaml: node 'n': params.value: missing (expected: a number)");
    assertThat(problems(yaml("threshold", "{value: high}", "x", "FP32", "[-1]", "mask")))
        .containsExactly("pipeline.yaml: node 'n': params.value: is high (expected: a number)");
    assertThat(problems(yaml("threshold", "{value: 1}", "x", "INT32", "[-1]", "mask")))
        .containsExactly("pipeline.yaml: node 'n': inputs.x: INT32[-1] (expected: FP32)");
  }
}
