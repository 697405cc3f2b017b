package io.serval.client;

import org.jspecify.annotations.Nullable;

/**
 * The server shed the request (HTTP 429, gRPC RESOURCE_EXHAUSTED); thrown once the client's retries, which wait for
 * {@code Retry-After}, are spent.
 */
public final class ServerOverloadedException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  ServerOverloadedException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
