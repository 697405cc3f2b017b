/**
 * The ONNX Runtime engine, Serval's embedded default: its natives come inside the Maven artifact, so it runs
 * wherever the JVM does (linux x86-64 and aarch64, macOS, Windows).
 *
 * <p>Start with {@link io.serval.engine.onnxruntime.OnnxRuntimeEngine}. All sessions share one process-wide
 * intra-op thread pool sized to the engine's CPU budget, so that loading more models or instances never
 * oversubscribes the cores; {@link io.serval.engine.onnxruntime.OnnxRuntimeProfile} holds the pool and session
 * settings (the server profile here, the edge profile for the {@code arm} engine of {@code engine-arm}); {@link
 * io.serval.engine.onnxruntime.OnnxTypes} maps tensor types both ways.
 */
@NullMarked
package io.serval.engine.onnxruntime;

import org.jspecify.annotations.NullMarked;
