package io.serval.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class InputValidatorTest {
  private static final String SUBJECT = "model 'm' version 1";
  private static final ModelSignature BATCHED =
      ModelSignature.of(
          List.of(TensorSpec.of("x", DataType.FP32, -1, 3, -1), TensorSpec.of("y", DataType.INT64, -1)),
          List.of(TensorSpec.of("out", DataType.FP32, -1, 2)));

  @Test
  void acceptsMatchingInputsAndReturnsTheBatchSize() {
    int batch = InputValidator.validate(SUBJECT, BATCHED, 4, List.of(floats("x", 2, 3, 5), longs("y", 2)));

    assertThat(batch).isEqualTo(2);
  }

  @Test
  void rejectsUnknownInputNamingTheExpectedOnes() {
    assertThatThrownBy(() -> InputValidator.validate(SUBJECT, BATCHED, 4, List.of(floats("z", 1, 3, 1))))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("model 'm' version 1: unexpected input 'z' (expected: 'x', 'y')");
  }

  @Test
  void rejectsMissingInput() {
    assertThatThrownBy(() -> InputValidator.validate(SUBJECT, BATCHED, 4, List.of(floats("x", 1, 3, 1))))
        .hasMessage("model 'm' version 1: missing input 'y' (expected: INT64[-1])");
  }

  @Test
  void rejectsWrongDatatype() {
    assertThatThrownBy(
            () -> InputValidator.validate(SUBJECT, BATCHED, 4, List.of(floats("x", 1, 3, 1), floats("y", 1))))
        .hasMessage("model 'm' version 1: input 'y' has datatype FP32 (expected: INT64)");
  }

  @Test
  void rejectsWrongRank() {
    assertThatThrownBy(() -> InputValidator.validate(SUBJECT, BATCHED, 4, List.of(floats("x", 3, 1), longs("y", 1))))
        .hasMessage("model 'm' version 1: input 'x' has shape [3,1] of rank 2 (expected: rank 3, shape [-1,3,-1])");
  }

  @Test
  void rejectsWrongFixedDimension() {
    assertThatThrownBy(
            () -> InputValidator.validate(SUBJECT, BATCHED, 4, List.of(floats("x", 1, 4, 1), longs("y", 1))))
        .hasMessage(
            "model 'm' version 1: input 'x' has shape [1,4,1]: dimension 1 is 4 (expected: 3, shape [-1,3,-1])");
  }

  @Test
  void rejectsBatchLargerThanMaxBatchSize() {
    assertThatThrownBy(
            () -> InputValidator.validate(SUBJECT, BATCHED, 4, List.of(floats("x", 5, 3, 1), longs("y", 5))))
        .hasMessage("model 'm' version 1: input 'x' has batch size 5 (expected: 1 to 4, the model's max_batch_size)");
  }

  @Test
  void rejectsInputsWithDifferentBatchSizes() {
    assertThatThrownBy(
            () -> InputValidator.validate(SUBJECT, BATCHED, 4, List.of(floats("x", 2, 3, 1), longs("y", 3))))
        .hasMessageContaining("input 'y' has batch size 3 but input 'x' has 2");
  }

  @Test
  void rejectsTheSameInputTwice() {
    assertThatThrownBy(
            () ->
                InputValidator.validate(
                    SUBJECT, BATCHED, 4, List.of(floats("x", 1, 3, 1), floats("x", 1, 3, 1), longs("y", 1))))
        .hasMessage("model 'm' version 1: input 'x' is given more than once");
  }

  private static Tensor floats(String name, long... shape) {
    return Tensor.ofFloats(name, shape, new float[(int) Shapes.elementCount(shape)]);
  }

  private static Tensor longs(String name, long... shape) {
    return Tensor.of(name, DataType.INT64, shape, Tensor.allocate(Shapes.elementCount(shape) * 8));
  }
}
