package io.serval.client;

import org.jspecify.annotations.Nullable;

/** No such model, version, route or endpoint (HTTP 404, gRPC NOT_FOUND). */
public final class NotFoundException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  NotFoundException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
