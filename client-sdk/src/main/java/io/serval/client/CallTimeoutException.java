package io.serval.client;

import org.jspecify.annotations.Nullable;

/** The call's timeout passed before an answer came (or the server gave up: HTTP 504, gRPC DEADLINE_EXCEEDED). */
public final class CallTimeoutException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  CallTimeoutException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
