package io.serval.client;

import org.jspecify.annotations.Nullable;

/**
 * No server could take the call: unreachable, not ready, or answering HTTP 503 / gRPC UNAVAILABLE; thrown once the
 * client's retries are spent.
 */
public class ServerUnavailableException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  ServerUnavailableException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
