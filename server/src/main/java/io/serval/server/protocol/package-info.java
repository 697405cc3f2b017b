/**
 * What the protocol front ends share: {@link io.serval.server.protocol.ErrorMapping}, the one place where
 * Serval's error kinds become HTTP statuses and gRPC codes. The KServe v2 front ends live in {@code
 * protocol.v2} (messages shared by both), {@code protocol.v2.http} and {@code protocol.v2.grpc}.
 */
@NullMarked
package io.serval.server.protocol;

import org.jspecify.annotations.NullMarked;
