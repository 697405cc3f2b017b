package io.serval.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Tensors from plain values: shape from nesting, fitted to the expected shape, elements of the datatype's kind. */
class TensorValuesTest {
  @Test
  void readsTheShapeFromTheNestingAndTheValuesInRowMajorOrder() {
    Tensor tensor = TensorValues.of("t", DataType.INT64, new long[] {-1, 2}, List.of(List.of(1, 2), List.of(3, 4L)));
    assertThat(tensor.shape()).containsExactly(2, 2);
    assertThat(List.of(tensor.numberAt(0), tensor.numberAt(3))).containsExactly(1L, 4L);

    Tensor empty = TensorValues.of("t", DataType.FP32, new long[] {-1}, List.of());
    assertThat(empty.shape()).containsExactly(0);
  }

  @Test
  void aScalarFillsAnyShapeOfOneElement() {
    Tensor label = TensorValues.of("label", DataType.BYTES, new long[] {-1, 1}, "unknown");
    assertThat(label.shape()).containsExactly(1, 1);
    assertThat(new String(label.bytesElements().get(0))).isEqualTo("unknown");
    assertThat(TensorValues.of("s", DataType.FP64, new long[0], 0.5).numberAt(0)).isEqualTo(0.5);
    assertThat(TensorValues.of("b", DataType.BOOL, new long[] {1}, true).numberAt(0)).isEqualTo(1);

    assertThatThrownBy(() -> TensorValues.of("t", DataType.FP32, new long[] {2}, 1.5))
        .hasMessage("is one value 1.5 (expected: a tensor of shape [2])");
  }

  @Test
  void refusesShapesThatDoNotFitAndRaggedRows() {
    assertThatThrownBy(() -> TensorValues.of("t", DataType.FP32, new long[] {-1, 3}, List.of(List.of(1, 2))))
        .hasMessage("has shape [1,2] (expected: [-1,3])");
    assertThatThrownBy(() -> TensorValues.of("t", DataType.FP32, new long[] {2, 2},
        List.of(List.of(1, 2), List.of(3)))).hasMessage(
            "has rows of different lengths or depths at element 2 (expected: every row like the first, shape [2,2])");
    assertThatThrownBy(() -> TensorValues.of("t", DataType.FP32, new long[] {2},
        List.of(1, List.of(2)))).hasMessage(
            "nests lists deeper than its shape [2] at element 1 (expected: every row alike)");
  }

  @Test
  void refusesElementsOfAnotherKindOrOutOfRange() {
    assertThatThrownBy(() -> TensorValues.of("t", DataType.UINT8, new long[] {2}, List.of(255, 256)))
        .hasMessage("element 1 is 256 (expected: an integer from 0 to 255 for UINT8)");
    assertThatThrownBy(() -> TensorValues.of("t", DataType.INT32, new long[] {1}, List.of(1.5)))
        .hasMessage("element 0 is 1.5 (expected: an integer from -2147483648 to 2147483647 for INT32)");
    assertThatThrownBy(() -> TensorValues.of("t", DataType.BOOL, new long[] {1}, List.of(1)))
        .hasMessage("element 0 is 1 (expected: true or false)");
    assertThatThrownBy(() -> TensorValues.of("t", DataType.BYTES, new long[] {1}, List.of(7)))
        .hasMessage("element 0 is 7 (expected: a string)");
    assertThatThrownBy(() -> TensorValues.of("t", DataType.FP32, new long[] {1}, List.of(Double.NaN)))
        .hasMessage("element 0 is NaN (expected: a finite number)");
    assertThatThrownBy(() -> TensorValues.of("t", DataType.FP16, new long[] {1}, List.of(1)))
        .hasMessage("FP16 values cannot be written as numbers (expected: a tensor of FP32 or another datatype)");

    BigInteger max = BigInteger.TWO.pow(64).subtract(BigInteger.ONE);
    assertThat(TensorValues.of("t", DataType.UINT64, new long[] {1}, List.of(max)).numberAt(0)).isEqualTo(max);
  }
}
