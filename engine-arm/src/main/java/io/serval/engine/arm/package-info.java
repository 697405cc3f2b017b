/**
 * The {@code arm} engine: ONNX Runtime (whose Maven jar carries linux-aarch64 natives) with edge defaults for
 * small devices, the same engine as {@code onnxruntime} with {@link
 * io.serval.engine.onnxruntime.OnnxRuntimeProfile#edge another profile}.
 *
 * <p>Start with {@link io.serval.engine.arm.ArmEngineProvider}, which sizes the pool to the physical cores within
 * the server's budget ({@link io.serval.engine.arm.PhysicalCores}).
 */
@NullMarked
package io.serval.engine.arm;

import org.jspecify.annotations.NullMarked;
