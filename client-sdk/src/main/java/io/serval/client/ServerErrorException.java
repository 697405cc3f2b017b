package io.serval.client;

import org.jspecify.annotations.Nullable;

/** The server failed (HTTP 500, gRPC INTERNAL and any other status), or its answer could not be read. */
public final class ServerErrorException extends ServalClientException {
  private static final long serialVersionUID = 1L;

  ServerErrorException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(httpStatus, grpcStatus, serverMessage, requestId, cause);
  }
}
