/**
 * The client's machinery, not API: anything here may change. {@link io.serval.client.internal.ServerCalls} is one
 * transport's calls, implemented by {@link io.serval.client.internal.HttpCalls} (with {@link
 * io.serval.client.internal.HttpInferCodec}) and {@link io.serval.client.internal.GrpcCalls} (with {@link
 * io.serval.client.internal.GrpcInferCodec}); {@link io.serval.client.internal.Resilience} builds the retry and
 * circuit breaker decorators; {@link io.serval.client.internal.Failures} maps every failure to a typed error.
 */
@NullMarked
package io.serval.client.internal;

import org.jspecify.annotations.NullMarked;
