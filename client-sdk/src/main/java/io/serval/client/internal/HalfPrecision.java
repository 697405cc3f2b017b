package io.serval.client.internal;

/**
 * Conversions between {@code float} and the two 16-bit float formats of the v2 protocol: IEEE 754 half precision
 * (FP16) and bfloat16 (BF16, the upper half of an FP32). Narrowing rounds to nearest, ties to even, as numpy and
 * PyTorch do, so a value converted here matches one converted by a Python client bit for bit.
 */
public final class HalfPrecision {
  private HalfPrecision() {}

  /** The FP16 bits nearest to {@code value}; out-of-range values become infinities, NaN stays NaN. */
  public static short toFp16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = (bits >>> 23) & 0xFF;
    int mantissa = bits & 0x7F_FFFF;
    if (exponent == 0xFF) {
      return (short) (sign | 0x7C00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0));
    }
    int halfExponent = exponent - 127 + 15;
    if (halfExponent >= 0x1F) {
      return (short) (sign | 0x7C00);
    }
    if (halfExponent <= 0) {
      if (halfExponent < -10) {
        return (short) sign;
      }
      // Subnormal: shift the mantissa with its implicit leading one into place, rounding half to even.
      int full = mantissa | 0x80_0000;
      int shift = 14 - halfExponent;
      int half = full >>> shift;
      int remainder = full & ((1 << shift) - 1);
      int midpoint = 1 << (shift - 1);
      if (remainder > midpoint || remainder == midpoint && (half & 1) != 0) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = (halfExponent << 10) | (mantissa >>> 13);
    int remainder = mantissa & 0x1FFF;
    if (remainder > 0x1000 || remainder == 0x1000 && (half & 1) != 0) {
      // A carry out of the mantissa correctly bumps the exponent, up to infinity.
      half++;
    }
    return (short) (sign | half);
  }

  /** The float that FP16 {@code half} holds, exactly. */
  public static float fromFp16(short half) {
    int bits = half & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1F;
    int mantissa = bits & 0x3FF;
    if (exponent == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F80_0000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** The BF16 bits nearest to {@code value}; NaN stays NaN. */
  public static short toBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** The float that BF16 {@code bf16} holds, exactly. */
  public static float fromBf16(short bf16) {
    return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
  }
}
