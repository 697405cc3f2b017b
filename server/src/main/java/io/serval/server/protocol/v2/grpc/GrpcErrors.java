package io.serval.server.protocol.v2.grpc;

import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import io.grpc.Metadata;
import io.grpc.Status;
import io.serval.engine.ErrorKind;
import io.serval.engine.ServalException;
import io.serval.server.inference.InferenceService;
import io.serval.server.protocol.ErrorMapping;
import io.serval.server.protocol.InternalErrors;

/**
 * Armeria's gRPC exception handler for every Serval service: a {@link ServalException} becomes the status {@link
 * ErrorMapping} gives with its message; anything else, and every internal error, is reported once by {@link
 * InternalErrors} and answered INTERNAL with only the request id.
 *
 * <pre>{@code
 * GrpcService.builder().exceptionHandler(GrpcErrors.handler())...
 * }</pre>
 */
public final class GrpcErrors {
  private GrpcErrors() {}

  /** The handler to install on the gRPC service. */
  public static GrpcExceptionHandlerFunction handler() {
    return GrpcErrors::toStatus;
  }

  private static Status toStatus(RequestContext ctx, Status status, Throwable cause, Metadata metadata) {
    if (!(cause instanceof ServalException) && status.getCode() != Status.Code.UNKNOWN
        && status.getCode() != Status.Code.INTERNAL) {
      // Armeria's own verdicts (cancelled, deadline, message too large) stand as they are.
      return status;
    }
    ServalException error = InferenceService.unwrap(cause);
    if (error.kind() == ErrorKind.INTERNAL) {
      return Status.INTERNAL.withDescription(
          InternalErrors.report(ctx.id().text(), ctx.method() + " " + ctx.path(), cause));
    }
    return Status.fromCode(ErrorMapping.grpcCode(error.kind())).withDescription(error.getMessage());
  }
}
