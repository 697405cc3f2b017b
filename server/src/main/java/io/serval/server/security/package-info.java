/**
 * Transport security and access control, all configured in {@link io.serval.server.config.ServerConfig} and
 * installed on the Armeria server by {@link io.serval.server.security.ServalSecurity}: TLS on every port (with
 * client certificates when {@code tls.client_ca} is set, loaded by {@link io.serval.server.security.TlsFiles}),
 * bearer tokens known by their SHA-256 ({@link io.serval.server.security.BearerTokens}, made with {@link
 * io.serval.server.security.TokenHash}), the scope each endpoint needs ({@link
 * io.serval.server.security.Endpoints}), and the management listener that alone serves management calls. {@link
 * io.serval.server.security.AccessControl} decides every request and {@link io.serval.server.security.Refusal}
 * answers the refused ones as v2 JSON errors, or with a real {@code grpc-status} for gRPC callers.
 */
@NullMarked
package io.serval.server.security;

import org.jspecify.annotations.NullMarked;
