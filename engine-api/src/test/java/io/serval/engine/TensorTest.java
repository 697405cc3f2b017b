package io.serval.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorTest {
  @Test
  void rejectsDataWhoseLengthDoesNotMatchTheShape() {
    assertThatThrownBy(() -> Tensor.of("x", DataType.FP32, new long[] {2, 3}, Tensor.allocate(20)))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("tensor 'x': 20 bytes of data for shape [2,3] of FP32 (expected: 24 bytes)");
  }

  @Test
  void readsBytesElementsInTheWireLayout() {
    Tensor tensor = Tensor.ofStrings("s", new long[] {2}, List.of("ab", ""));

    assertThat(tensor.byteSize()).isEqualTo(4 + 2 + 4);
    assertThat(tensor.bytesElements())
        .extracting(bytes -> new String(bytes, StandardCharsets.UTF_8))
        .containsExactly("ab", "");
  }

  @Test
  void rejectsBytesWithATruncatedElement() {
    ByteBuffer data = Tensor.allocate(6);
    data.putInt(5).put((byte) 'a').put((byte) 'b').flip();

    assertThatThrownBy(() -> Tensor.of("s", DataType.BYTES, new long[] {1}, data))
        .hasMessage("tensor 's': BYTES element 0 declares 5 bytes but only 2 remain");
  }

  @Test
  void rejectsBytesWhoseElementCountDoesNotMatchTheShape() {
    ByteBuffer data = Tensor.ofStrings("s", new long[] {1}, List.of("a")).data();

    assertThatThrownBy(() -> Tensor.of("s", DataType.BYTES, new long[] {2}, data))
        .hasMessage("tensor 's': 1 BYTES elements for shape [2] (expected: 2)");
  }

  @Test
  void keepsItsDataWhenTheCallerMovesTheSourceBuffer() {
    Tensor tensor = Tensor.ofFloats("x", new long[] {2}, new float[] {1.5f, -2f});
    tensor.data().position(4);

    assertThat(tensor.floats().get(0)).isEqualTo(1.5f);
    assertThat(tensor.byteSize()).isEqualTo(8);
  }

  @Test
  void parsesConfigAndWireTypeNames() {
    assertThat(DataType.fromConfigName("TYPE_FP32")).isEqualTo(DataType.FP32);
    assertThat(DataType.fromConfigName("type_string")).isEqualTo(DataType.BYTES);
    assertThat(DataType.fromWireName("fp32")).isNull();
    assertThat(DataType.BYTES.configName()).isEqualTo("TYPE_STRING");
  }
}
