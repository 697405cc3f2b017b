/**
 * The engine SPI of Serval: what an inference engine (ONNX Runtime, OpenVINO, TensorRT ...) implements and
 * what the server hands it.
 *
 * <p>Start with {@link io.serval.engine.InferenceEngineProvider} (found with {@link java.util.ServiceLoader}),
 * which creates an {@link io.serval.engine.InferenceEngine}; the engine inspects a model file into a {@link
 * io.serval.core.ModelSignature} and opens {@link io.serval.engine.ModelInstance}s that run {@link
 * io.serval.core.Tensor}s. Tensors, signatures and the typed errors are serval-core's.
 */
@NullMarked
package io.serval.engine;

import org.jspecify.annotations.NullMarked;
