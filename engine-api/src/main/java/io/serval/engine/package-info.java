/**
 * The engine SPI of Serval: what an inference engine (ONNX Runtime, OpenVINO, TensorRT ...) implements and
 * what the server hands it.
 *
 * <p>Start with {@link io.serval.engine.InferenceEngineProvider} (found with {@link java.util.ServiceLoader}),
 * which creates an {@link io.serval.engine.InferenceEngine}; the engine inspects a model file into a {@link
 * io.serval.engine.ModelSignature} and opens {@link io.serval.engine.ModelInstance}s that run {@link
 * io.serval.engine.Tensor}s. Requests are checked against the signature by {@link
 * io.serval.engine.InputValidator} before they reach native code. Failures are {@link
 * io.serval.engine.ServalException}s whose {@link io.serval.engine.ErrorKind} says how a protocol reports them.
 */
@NullMarked
package io.serval.engine;

import org.jspecify.annotations.NullMarked;
