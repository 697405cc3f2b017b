/**
 * A Java client for Serval and any KServe v2 / Triton server. Start with {@link io.serval.client.ServalClient}
 * and its {@link io.serval.client.ServalClientBuilder}: transport ({@link io.serval.client.Transport}), endpoints,
 * TLS, token, timeouts, retries and circuit breaker. Calls take an {@link io.serval.client.InferRequest} of
 * {@link io.serval.client.InferTensor}s and answer an {@link io.serval.client.InferResult}; failures are
 * {@link io.serval.client.ServalClientException}s whose subclass says what went wrong. The built-in services'
 * helpers are in {@link io.serval.client.services}; the transports, in {@code io.serval.client.internal}, are not
 * API.
 */
@NullMarked
package io.serval.client;

import org.jspecify.annotations.NullMarked;
