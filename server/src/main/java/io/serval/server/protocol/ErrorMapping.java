package io.serval.server.protocol;

import com.linecorp.armeria.common.HttpStatus;
import io.grpc.Status;
import io.serval.core.ErrorKind;

/** Maps each {@link ErrorKind} to its HTTP status and gRPC status code; nothing else in Serval decides this. */
public final class ErrorMapping {
  /** The status a cancelled request is logged with; no client reads it (nginx's convention). */
  private static final HttpStatus CLIENT_CLOSED_REQUEST = HttpStatus.valueOf(499);

  private ErrorMapping() {}

  public static HttpStatus httpStatus(ErrorKind kind) {
    switch (kind) {
      case INVALID_ARGUMENT:
        return HttpStatus.BAD_REQUEST;
      case NOT_FOUND:
        return HttpStatus.NOT_FOUND;
      case UNAVAILABLE:
        return HttpStatus.SERVICE_UNAVAILABLE;
      case UNSUPPORTED:
        return HttpStatus.NOT_IMPLEMENTED;
      case TOO_LARGE:
        return HttpStatus.REQUEST_ENTITY_TOO_LARGE;
      case OVERLOADED:
        return HttpStatus.TOO_MANY_REQUESTS;
      case DEADLINE_EXCEEDED:
        return HttpStatus.GATEWAY_TIMEOUT;
      case CANCELLED:
        return CLIENT_CLOSED_REQUEST;
      default:
        return HttpStatus.INTERNAL_SERVER_ERROR;
    }
  }

  public static Status.Code grpcCode(ErrorKind kind) {
    switch (kind) {
      case INVALID_ARGUMENT:
        return Status.Code.INVALID_ARGUMENT;
      case NOT_FOUND:
        return Status.Code.NOT_FOUND;
      case UNAVAILABLE:
        return Status.Code.UNAVAILABLE;
      case UNSUPPORTED:
        return Status.Code.UNIMPLEMENTED;
      case TOO_LARGE:
      case OVERLOADED:
        return Status.Code.RESOURCE_EXHAUSTED;
      case DEADLINE_EXCEEDED:
        return Status.Code.DEADLINE_EXCEEDED;
      case CANCELLED:
        return Status.Code.CANCELLED;
      default:
        return Status.Code.INTERNAL;
    }
  }
}
