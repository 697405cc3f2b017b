/**
 * The warm-up before ready: {@link io.serval.server.warmup.Warmup} sends generated requests through the server's
 * own front ends into every loaded model version, so that the JVM has compiled the request path before the first
 * client arrives.
 */
@NullMarked
package io.serval.server.warmup;

import org.jspecify.annotations.NullMarked;
