package io.serval.core;

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
  void readsElementsOfEveryNumericTypeAsExactNumbers() {
    assertThat(single(DataType.UINT8, 1, 0xFF).numberAt(0)).isEqualTo(255);
    assertThat(single(DataType.INT8, 1, 0xFF).numberAt(0)).isEqualTo(-1);
    assertThat(single(DataType.UINT16, 2, 0xFFFF).numberAt(0)).isEqualTo(65535);
    assertThat(single(DataType.UINT32, 4, 0xFFFF_FFFFL).numberAt(0)).isEqualTo(4294967295L);
    assertThat(single(DataType.UINT64, 8, -1L).numberAt(0)).isEqualTo(new java.math.BigInteger("18446744073709551615"));
    assertThat(single(DataType.INT64, 8, -5L).numberAt(0)).isEqualTo(-5L);
    assertThat(single(DataType.BOOL, 1, 1).numberAt(0)).isEqualTo(1);
    // 0x3C00 is 1.0 in IEEE half precision; 0xC000 is -2.0; 0x0001 the smallest subnormal, 2^-24.
    assertThat(single(DataType.FP16, 2, 0x3C00).numberAt(0)).isEqualTo(1.0f);
    assertThat(single(DataType.FP16, 2, 0xC000).numberAt(0)).isEqualTo(-2.0f);
    assertThat(single(DataType.FP16, 2, 0x0001).numberAt(0)).isEqualTo(0x1p-24f);
    assertThat(single(DataType.FP16, 2, 0x7C00).numberAt(0)).isEqualTo(Float.POSITIVE_INFINITY);
    // bfloat16 is the top half of a float: 0x3FC0 is 1.5.
    assertThat(single(DataType.BF16, 2, 0x3FC0).numberAt(0)).isEqualTo(1.5f);
  }

  private static Tensor single(DataType type, int bytes, long bits) {
    ByteBuffer data = Tensor.allocate(bytes);
    for (int i = 0; i < bytes; i++) {
      data.put((byte) (bits >>> (8 * i)));
    }
    return Tensor.of("t", type, new long[] {1}, data.flip());
  }

  @Test
  void parsesConfigAndWireTypeNames() {
    assertThat(DataType.fromConfigName("TYPE_FP32")).isEqualTo(DataType.FP32);
    assertThat(DataType.fromConfigName("type_string")).isEqualTo(DataType.BYTES);
    assertThat(DataType.fromWireName("fp32")).isNull();
    assertThat(DataType.BYTES.configName()).isEqualTo("TYPE_STRING");
  }
}
