package io.serval.engine.tensorrt;

import java.util.Locale;

/**
 * The arithmetic TensorRT may use for the model's FP32 layers. TensorRT 11 builds every network strongly typed: the
 * types written in the ONNX model decide the precision of each layer, and the builder flags that let TensorRT 10
 * pick FP16 or INT8 kernels on its own are gone. A model served in FP16 or INT8 is converted before it is served
 * (ModelOpt AutoCast for FP16/BF16, Q/DQ quantisation for INT8/FP8); what is left to choose here is whether FP32
 * layers may run on TF32 tensor cores.
 */
enum Precision {
  /** FP32 layers compute in full FP32 (TF32 off). */
  FP32,
  /** FP32 layers may use TF32 tensor cores (Ampere and later): faster, with a 10-bit mantissa in products. */
  TF32;

  /** The name as written in configuration. */
  String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
