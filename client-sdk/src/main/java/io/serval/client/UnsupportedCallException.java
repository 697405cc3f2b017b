package io.serval.client;

import org.jspecify.annotations.Nullable;

/**
 * The server does not implement the call (HTTP 501, gRPC UNIMPLEMENTED), such as a Serval-only call sent to another
 * server.
 */
public final class UnsupportedCallException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  UnsupportedCallException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
