package io.serval.client;

import org.jspecify.annotations.Nullable;

/** No bearer token, or one the server does not know (HTTP 401, gRPC UNAUTHENTICATED). */
public final class AuthenticationException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  AuthenticationException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
