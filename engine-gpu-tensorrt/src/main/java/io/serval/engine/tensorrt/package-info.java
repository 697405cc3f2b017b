/**
 * The TensorRT engine: ONNX models (or prebuilt plans) run on an NVIDIA GPU through Bytedeco's TensorRT and CUDA
 * presets.
 *
 * <p>Start with {@link io.serval.engine.tensorrt.TensorRtEngine}. The module is split along one line: the classes
 * that touch Bytedeco ({@code NativeProbe}, {@code PlanBuilder}, {@code SharedPlans}, {@code TensorRtInstance},
 * {@code TensorRtLogger}, {@code Cuda}) are reached only after {@code TensorRtProbe} found the natives and a GPU, so
 * that loading the engine never loads a native library; everything decided without a GPU ({@code TensorRtSettings},
 * {@code OptimizationProfiles}, {@code PlanCacheKey}, {@code PlanCache}, {@code ProbeResult}) is plain Java with
 * unit tests of its own.
 */
@NullMarked
package io.serval.engine.tensorrt;

import org.jspecify.annotations.NullMarked;
