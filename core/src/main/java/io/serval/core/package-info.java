/**
 * What every Serval module shares, and nothing that knows HTTP, gRPC, metrics or engines.
 *
 * <p>Data: {@link io.serval.core.Tensor}s of a {@link io.serval.core.DataType}, allocated in a request's {@link
 * io.serval.core.MemoryScope}; a {@link io.serval.core.ModelSignature} of {@link io.serval.core.TensorSpec}s that
 * {@link io.serval.core.InputValidator} checks requests against. The request path: an {@link
 * io.serval.core.InferenceRequest} goes to a {@link io.serval.core.Servable} (a model version, a pipeline, a
 * route) and comes back as an {@link io.serval.core.InferenceResult}. Failures are {@link
 * io.serval.core.ServalException}s whose {@link io.serval.core.ErrorKind} says how a protocol reports them.
 */
@NullMarked
package io.serval.core;

import org.jspecify.annotations.NullMarked;
