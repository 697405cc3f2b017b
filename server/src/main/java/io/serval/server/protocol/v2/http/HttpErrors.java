package io.serval.server.protocol.v2.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.serval.core.ErrorKind;
import io.serval.core.PayloadTooLargeException;
import io.serval.core.ServalException;
import io.serval.server.protocol.ErrorMapping;
import io.serval.server.protocol.InternalErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The v2 HTTP error body, {@code {"error": "...", "request_id": "..."}}, with the status {@link ErrorMapping}
 * gives. Internal errors are reported by {@link InternalErrors}: the caller gets only a generic message with the
 * request id.
 */
public final class HttpErrors {
  private static final Logger log = LoggerFactory.getLogger(HttpErrors.class);
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private HttpErrors() {}

  public static HttpResponse response(RequestContext ctx, ServalException error) {
    String message;
    if (error.kind() == ErrorKind.INTERNAL) {
      message = InternalErrors.report(ctx.id().text(), ctx.method() + " " + ctx.path(), error);
    } else {
      log.debug("[{}] {} {}: {}", ctx.id().text(), ctx.method(), ctx.path(), error.getMessage());
      message = error.getMessage();
    }
    HttpResponse response = response(ErrorMapping.httpStatus(error.kind()), message, ctx.id().text());
    if (error.kind() == ErrorKind.OVERLOADED) {
      // The queue drains in milliseconds; one second is the smallest wait the header can say.
      return response.mapHeaders(headers -> headers.toBuilder().set(HttpHeaderNames.RETRY_AFTER, "1").build());
    }
    return response;
  }

  public static HttpResponse response(HttpStatus status, String message, String requestId) {
    // Plain application/json, as Triton sends it: KServe's client shows the message only for exactly that type.
    return HttpResponse.of(status, MediaType.JSON, body(message, requestId));
  }

  /** The error for a body over {@code limits.max_request_bytes}. */
  public static PayloadTooLargeException tooLarge(ServiceRequestContext ctx) {
    return new PayloadTooLargeException(
        "the request body is larger than " + ctx.maxRequestLength() + " bytes (limits.max_request_bytes)");
  }

  /**
   * The v2 error for a failed request: Armeria's own body-size failure becomes {@link #tooLarge}, everything
   * else what {@link ServalException#of} makes of it.
   */
  public static HttpResponse failure(ServiceRequestContext ctx, Throwable error) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (cause instanceof ContentTooLargeException) {
        return response(ctx, tooLarge(ctx));
      }
    }
    return response(ctx, ServalException.of(error));
  }

  /** The JSON error body. */
  public static String body(String message, String requestId) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("error", message);
    node.put("request_id", requestId);
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
