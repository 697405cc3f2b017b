/**
 * The response cache: {@link io.serval.server.cache.ResponseCache} answers a request that repeats one seen
 * before (same model version, inputs and requested outputs, byte for byte) without running the model. It is
 * bounded by bytes, shared by every model that enables it, and never serves across versions.
 */
@NullMarked
package io.serval.server.cache;

import org.jspecify.annotations.NullMarked;
