package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.longs;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.uint8;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.DataType;
import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** argmax: the index of the largest value along the last axis, for every numeric datatype. */
class ArgmaxOperatorTest {
  @Test
  void findsTheLargestPerRowTiesToTheLowerIndexNanFirst() throws Exception {
    Pipeline pipeline = compile(yaml("argmax", "{}", "x", "FP32", "[-1, 3]", "index"));
    assertThat(pipeline.signature().outputs().get(0).toString()).isEqualTo("index:INT64[-1]");

    // Row 0: 3 at 1 and 2, the lower index wins. Row 1: the first NaN wins (as in NumPy). Row 2: -1 at 2.
    Tensor index = run(pipeline, Tensor.ofFloats("x", new long[] {3, 3},
        new float[] {1, 3, 3, 7, Float.NaN, Float.NaN, -5, -2, -1})).get(0);

    assertThat(index.shape()).containsExactly(3);
    assertThat(longs(index)).containsExactly(1, 1, 2);
  }

  @Test
  void comparesIntegersExactlyAndUnsignedOnesUnsigned() throws Exception {
    // As doubles, the first two would be equal (2^63 - 2 and 2^63 - 1 round alike); as longs, 1 wins.
    ByteBuffer big = Tensor.allocate(24).putLong(Long.MAX_VALUE - 1).putLong(Long.MAX_VALUE)
        .putLong(Long.MAX_VALUE - 2).flip();
    Pipeline int64 = compile(yaml("argmax", "{}", "x", "INT64", "[3]", "index"));
    Tensor scalar = run(int64, Tensor.of("x", DataType.INT64, new long[] {3}, big)).get(0);
    assertThat(scalar.shape()).isEmpty();
    assertThat(longs(scalar)).containsExactly(1);

    // UINT64: all bits set (2^64 - 1) is the largest, not -1.
    ByteBuffer unsigned = Tensor.allocate(24).putLong(5).putLong(-1).putLong(7).flip();
    Pipeline uint64 = compile(yaml("argmax", "{}", "x", "UINT64", "[3]", "index"));
    assertThat(longs(run(uint64, Tensor.of("x", DataType.UINT64, new long[] {3}, unsigned)).get(0)))
        .containsExactly(1);

    // UINT8: 255 over 200.
    Pipeline uint8 = compile(yaml("argmax", "{}", "x", "UINT8", "[1, 3]", "index"));
    assertThat(longs(run(uint8, uint8("x", new long[] {1, 3}, 200, 100, 255)).get(0))).containsExactly(2);
  }

  @Test
  void refusesWhatIsNotNumericOrHasAnEmptyLastAxis() {
    assertThat(problems(yaml("argmax", "{}", "x", "BOOL", "[-1, 3]", "index")))
        .containsExactly("pipeline.yaml: node 'n': inputs.x: BOOL[-1,3] (expected: an integer or floating-point"
            + " datatype, rank 1 or more, a last axis of 1 or more)");
    assertThat(problems(yaml("argmax", "{}", "x", "FP32", "[-1, 0]", "index")))
        .containsExactly("pipeline.yaml: node 'n': inputs.x: FP32[-1,0] (expected: an integer or floating-point"
            + " datatype, rank 1 or more, a last axis of 1 or more)");
    assertThat(problems(yaml("argmax", "{axis: 0}", "x", "FP32", "[-1, 3]", "index")))
        .containsExactly("pipeline.yaml: node 'n': params.axis: unknown parameter (this operator takes none)");
  }
}
