package io.serval.client;

import org.jspecify.annotations.Nullable;

/** The token lacks the scope the call needs, such as Serval's {@code manage} (HTTP 403, gRPC PERMISSION_DENIED). */
public final class PermissionDeniedException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  PermissionDeniedException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
