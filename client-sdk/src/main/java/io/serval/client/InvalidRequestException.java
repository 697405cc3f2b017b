package io.serval.client;

import org.jspecify.annotations.Nullable;

/**
 * The request is malformed or does not fit the model (HTTP 400 or 413, gRPC INVALID_ARGUMENT): fix it; never
 * retried.
 */
public final class InvalidRequestException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  InvalidRequestException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
