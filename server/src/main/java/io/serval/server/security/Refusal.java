package io.serval.server.security;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.serval.server.protocol.v2.grpc.GrpcErrors;
import io.serval.server.protocol.v2.http.HttpErrors;
import org.jspecify.annotations.Nullable;

/**
 * A refused request and how it is answered. HTTP callers get the status with the v2 JSON error body. gRPC
 * callers get a trailers-only gRPC response (HTTP 200 with {@code grpc-status} and {@code grpc-message}): a
 * plain HTTP 401 from a decorator would reach a gRPC client only as "HTTP status code 401" with the message
 * lost, because gRPC reads its status from {@code grpc-status}, not from the HTTP status.
 */
enum Refusal {
  /** No token, or one that is none of the configured tokens. */
  UNAUTHENTICATED(HttpStatus.UNAUTHORIZED, Status.Code.UNAUTHENTICATED),
  /** A valid token without the scope the endpoint needs, or management calls not enabled. */
  FORBIDDEN(HttpStatus.FORBIDDEN, Status.Code.PERMISSION_DENIED),
  /** A call this port does not serve: management calls off the management port, and the other way round. */
  NOT_HERE(HttpStatus.NOT_FOUND, Status.Code.UNIMPLEMENTED);

  private final HttpStatus httpStatus;
  private final Status.Code grpcCode;

  Refusal(HttpStatus httpStatus, Status.Code grpcCode) {
    this.httpStatus = httpStatus;
    this.grpcCode = grpcCode;
  }

  /**
   * The response to {@code req}; {@code wwwAuthenticate}, when given, is sent as the {@code WWW-Authenticate}
   * header (RFC 6750) of HTTP responses.
   */
  HttpResponse response(
      ServiceRequestContext ctx, HttpRequest req, String message, @Nullable String wwwAuthenticate) {
    MediaType contentType = req.contentType();
    if (contentType != null && GrpcErrors.isGrpc(contentType)) {
      return GrpcErrors.trailersOnly(contentType, grpcCode, message);
    }
    HttpResponse response = HttpErrors.response(httpStatus, message, ctx.id().text());
    if (wwwAuthenticate == null) {
      return response;
    }
    return response.mapHeaders(
        headers -> headers.toBuilder().set(HttpHeaderNames.WWW_AUTHENTICATE, wwwAuthenticate).build());
  }
}
