package io.serval.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.client.internal.HalfPrecision;
import io.serval.core.DataType;
import io.serval.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Typed builders and accessors of every datatype, the shape checks and the 16-bit float conversions. */
class InferTensorTest {
  private static final long[] THREE = {3};

  @Test
  void roundTripsEveryDatatype() {
    assertThat(InferTensor.ofBooleans("b", THREE, true, false, true).toBooleanArray())
        .containsExactly(true, false, true);
    assertThat(InferTensor.ofInt8("i8", THREE, (byte) -1, (byte) 0, (byte) 127).toIntArray())
        .containsExactly(-1, 0, 127);
    assertThat(InferTensor.ofUint8("u8", THREE, (byte) -1, (byte) 0, (byte) 127).toIntArray())
        .containsExactly(255, 0, 127);
    assertThat(InferTensor.ofInt16("i16", THREE, (short) -2, (short) 0, (short) 300).toIntArray())
        .containsExactly(-2, 0, 300);
    assertThat(InferTensor.ofUint16("u16", THREE, (short) -1, (short) 0, (short) 300).toLongArray())
        .containsExactly(65535, 0, 300);
    assertThat(InferTensor.ofInts("i32", THREE, -3, 0, Integer.MAX_VALUE).toLongArray())
        .containsExactly(-3, 0, Integer.MAX_VALUE);
    assertThat(InferTensor.ofUint32("u32", THREE, -1, 0, 7).toLongArray()).containsExactly(0xFFFF_FFFFL, 0, 7);
    assertThat(InferTensor.ofLongs("i64", THREE, Long.MIN_VALUE, 0, 5).toLongArray())
        .containsExactly(Long.MIN_VALUE, 0, 5);
    assertThat(InferTensor.ofUint64("u64", THREE, -1L, 0, 5).toLongArray()).containsExactly(-1L, 0, 5);
    assertThat(InferTensor.ofFloats("f32", THREE, 0.1f, -2, 3.5f).toFloatArray()).containsExactly(0.1f, -2, 3.5f);
    assertThat(InferTensor.ofDoubles("f64", THREE, 0.1, -2, 3.5).toDoubleArray()).containsExactly(0.1, -2, 3.5);
    assertThat(InferTensor.ofFp16("f16", THREE, 0.5f, -2, 65504).toFloatArray()).containsExactly(0.5f, -2, 65504);
    assertThat(InferTensor.ofBf16("bf16", THREE, 0.5f, -2, 1e30f).toFloatArray()[2]).isCloseTo(1e30f,
        org.assertj.core.data.Percentage.withPercentage(0.5));
    assertThat(InferTensor.ofStrings("s", new long[] {2}, List.of("héllo", "")).toStrings())
        .containsExactly("héllo", "");
    assertThat(InferTensor.ofBytes("raw", new long[] {1}, List.of(new byte[] {1, 2})).toByteArrays().get(0))
        .containsExactly(1, 2);
  }

  @Test
  void laysDataOutInTheV2BinaryLayout() {
    InferTensor tensor = InferTensor.ofStrings("s", new long[] {1, 2}, List.of("ab", "c"));
    ByteBuffer data = tensor.data();
    assertThat(data.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(data.getInt()).isEqualTo(2);
    assertThat(tensor.byteSize()).isEqualTo(4 + 2 + 4 + 1);
    assertThat(InferTensor.ofFloats("x", new long[] {2, 2}, 1, 2, 3, 4).byteSize()).isEqualTo(16);
    assertThat(InferTensor.ofFloats("x", new long[] {0, 4}).elementCount()).isZero();
  }

  @Test
  void rejectsValuesThatDoNotFitTheShapeNamingTheTensor() {
    assertThatThrownBy(() -> InferTensor.ofFloats("x", new long[] {2, 3}, 1, 2, 3))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tensor 'x': 3 values for shape [2,3] (expected: 6)");
    assertThatThrownBy(() -> InferTensor.ofInts("ids", new long[] {-1, 4}, 1, 2, 3, 4))
        .hasMessageStartingWith("tensor 'ids': shape [-1,4] has a dimension -1 (expected: every dimension >= 0");
    assertThatThrownBy(() -> InferTensor.of("raw", DataType.FP32, new long[] {2}, ByteBuffer.allocate(6)))
        .hasMessage("tensor 'raw': 6 bytes of FP32 data for shape [2] (expected: 8 bytes)");
    assertThatThrownBy(() -> InferTensor.ofStrings("s", new long[] {3}, List.of("a")))
        .hasMessage("tensor 's': 1 values for shape [3] (expected: 3)");
  }

  @Test
  void refusesAnAccessorOfTheWrongType() {
    assertThatThrownBy(() -> InferTensor.ofStrings("s", THREE, List.of("a", "b", "c")).toFloatArray())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("tensor 's' is BYTES (expected: FP32, FP16 or BF16)");
  }

  @Test
  void wrapsACoreTensorWithoutCopying() {
    Tensor core = Tensor.ofFloats("x", new long[] {1, 2}, new float[] {1, 2});
    InferTensor tensor = InferTensor.from(core);
    assertThat(tensor.toFloatArray()).containsExactly(1, 2);
    assertThat(tensor.data().isDirect()).isTrue();
  }

  @Test
  void roundsToHalfPrecisionAsNumpyDoes() {
    // Bits numpy gives: np.float16(x).view(np.uint16).
    assertThat(HalfPrecision.toFp16(1.0f)).isEqualTo((short) 0x3C00);
    assertThat(HalfPrecision.toFp16(-2.5f)).isEqualTo((short) 0xC100);
    assertThat(HalfPrecision.toFp16(65520f)).isEqualTo((short) 0x7C00);
    assertThat(HalfPrecision.toFp16(1e-7f)).isEqualTo((short) 0x0002);
    assertThat(HalfPrecision.toFp16(1.00048828125f)).isEqualTo((short) 0x3C00);
    assertThat(HalfPrecision.toFp16(1.00146484375f)).isEqualTo((short) 0x3C02);
    assertThat(HalfPrecision.fromFp16((short) 0x0001)).isEqualTo(0x1p-24f);
    assertThat(Float.isNaN(HalfPrecision.fromFp16(HalfPrecision.toFp16(Float.NaN)))).isTrue();
    assertThat(HalfPrecision.toBf16(1.0f)).isEqualTo((short) 0x3F80);
    assertThat(HalfPrecision.fromBf16(HalfPrecision.toBf16(3.140625f))).isEqualTo(3.140625f);
    for (int bits = 0; bits < 0x7C00; bits++) {
      assertThat(HalfPrecision.toFp16(HalfPrecision.fromFp16((short) bits))).isEqualTo((short) bits);
    }
  }
}
