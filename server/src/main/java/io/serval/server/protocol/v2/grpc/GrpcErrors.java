package io.serval.server.protocol.v2.grpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.linecorp.armeria.common.ContentTooLargeException;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestContext;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.grpc.GrpcExceptionHandlerFunction;
import com.linecorp.armeria.common.stream.ClosedStreamException;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.HttpStatusException;
import com.linecorp.armeria.server.RequestTimeoutException;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.serval.core.ErrorKind;
import io.serval.core.ServalException;
import io.serval.server.protocol.ErrorMapping;
import io.serval.server.protocol.InternalErrors;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Armeria's gRPC exception handler for every Serval service, the one place a gRPC failure becomes a status:
 * <ul>
 *   <li>a {@link ServalException}: the code {@link ErrorMapping} gives, with its message;
 *   <li>a request that could not be read (a malformed or truncated frame, a message that does not parse, one
 *       larger than {@code limits.max_request_bytes}): INVALID_ARGUMENT or RESOURCE_EXHAUSTED, in Serval's words
 *       rather than the framework's class names; a client that closed its stream: CANCELLED;
 *   <li>anything else: reported once by {@link InternalErrors} and answered INTERNAL with only the request id.
 * </ul>
 * A message is cut to {@value #MAX_MESSAGE} bytes as sent: it travels in a header, and a client that sends a
 * 100,000-character model name must still get its answer.
 *
 * <pre>{@code
 * GrpcService.builder().exceptionHandler(GrpcErrors.handler(maxRequestBytes))...
 * }</pre>
 */
public final class GrpcErrors {
  /** The longest status message sent, in encoded bytes; HTTP/2 peers refuse header lists over 8 KiB by default. */
  static final int MAX_MESSAGE = 2048;
  /** A Java class name leading a framework message ({@code com.linecorp...ArmeriaMessageDeframer: }). */
  /** A {@code grpc-timeout} value as the gRPC wire spec writes it. */
  private static final Pattern TIMEOUT = Pattern.compile("[0-9]{1,8}[HMSmun]");
  private static final Pattern CLASS_NAME = Pattern.compile("([a-z][\\w$]*\\.)+[A-Z][\\w$]*(: )?");

  private GrpcErrors() {}

  /** The handler to install on the gRPC services of a server whose requests may be {@code maxRequestBytes}. */
  public static GrpcExceptionHandlerFunction handler(int maxRequestBytes) {
    return (ctx, status, cause, metadata) -> toStatus(ctx, status, cause, maxRequestBytes);
  }

  private static Status toStatus(RequestContext ctx, Status status, Throwable cause, int maxRequestBytes) {
    if (cause instanceof ServalException) {
      ServalException error = (ServalException) cause;
      if (error.kind() == ErrorKind.INTERNAL) {
        return internal(ctx, cause);
      }
      return Status.fromCode(ErrorMapping.grpcCode(error.kind())).withDescription(cut(error.getMessage()));
    }
    if (cause instanceof ContentTooLargeException || cause instanceof HttpStatusException
        && ((HttpStatusException) cause).httpStatus() == HttpStatus.REQUEST_ENTITY_TOO_LARGE
        || status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
      return Status.RESOURCE_EXHAUSTED.withDescription("the request message is larger than " + maxRequestBytes
          + " bytes (limits.max_request_bytes)");
    }
    if (cause instanceof ClosedStreamException || status.getCode() == Status.Code.CANCELLED) {
      return Status.CANCELLED.withDescription("the client cancelled the call");
    }
    if (cause instanceof RequestTimeoutException || status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return Status.DEADLINE_EXCEEDED.withDescription("the call's deadline (grpc-timeout) passed before it was answered");
    }
    if (cause instanceof StatusRuntimeException || cause instanceof StatusException
        || cause instanceof InvalidProtocolBufferException || thrownWhileReadingTheRequest(cause)) {
      // The framework could not read the request: the client's error, said without class names.
      String described = describe(cause instanceof StatusRuntimeException || cause instanceof StatusException
          ? status.getDescription() : cause.getMessage());
      Status.Code code = status.getCode() == Status.Code.CANCELLED || status.getCode() == Status.Code.DEADLINE_EXCEEDED
          ? status.getCode() : Status.Code.INVALID_ARGUMENT;
      return Status.fromCode(code).withDescription(cut("the request cannot be read as a ModelInferRequest"
          + (described.isEmpty() ? "" : ": " + described)));
    }
    return internal(ctx, cause);
  }

  /** A framework message without class names and without parser internals, on one line. */
  private static String describe(@Nullable String message) {
    if (message == null) {
      return "";
    }
    String text = CLASS_NAME.matcher(message).replaceAll("").replaceAll("(: )+$", "").replaceAll("^: ", "");
    for (String internals : new String[] {"\n", " at [Source", " (start marker"}) {
      int at = text.indexOf(internals);
      if (at >= 0) {
        text = text.substring(0, at);
      }
    }
    return text.trim();
  }

  /** Whether {@code error} was thrown by the code that reads gRPC requests: deframing, inflating, parsing. */
  private static boolean thrownWhileReadingTheRequest(Throwable error) {
    for (StackTraceElement frame : error.getStackTrace()) {
      String name = frame.getClassName();
      if (name.startsWith("com.linecorp.armeria") && (name.contains("Deframer") || name.contains("Marshaller")
          || name.contains("Unframed")) || name.startsWith("com.google.protobuf.")
          || name.startsWith("org.curioswitch.common.protobuf.json.")) {
        return true;
      }
    }
    return false;
  }

  private static Status internal(RequestContext ctx, Throwable cause) {
    return Status.INTERNAL.withDescription(InternalErrors.report(ctx.id().text(), ctx.method() + " " + ctx.path(),
        cause));
  }

  /** Whether a request is framed gRPC or gRPC-Web ({@code application/grpc}, {@code application/grpc+proto}...). */
  public static boolean isGrpc(@Nullable MediaType contentType) {
    return contentType != null && contentType.type().equals("application")
        && contentType.subtype().startsWith("grpc");
  }

  /**
   * A trailers-only gRPC answer (HTTP 200 with {@code grpc-status} and {@code grpc-message}), for a decorator
   * that refuses a gRPC call before the service runs: a plain HTTP error would reach a gRPC client as "HTTP
   * status code N" with the message lost.
   */
  public static HttpResponse trailersOnly(MediaType contentType, Status.Code code, String message) {
    return HttpResponse.of(ResponseHeaders.builder(HttpStatus.OK)
        .contentType(contentType)
        .add("grpc-status", Integer.toString(code.value()))
        .add("grpc-message", percentEncoded(cut(message)))
        .build());
  }

  /**
   * A decorator for the gRPC routes that answers a call whose {@code grpc-timeout} header cannot be read with
   * INVALID_ARGUMENT naming the header (Armeria's own answer carries no message).
   */
  public static HttpResponse checkTimeoutHeader(HttpService delegate, ServiceRequestContext ctx, HttpRequest req)
      throws Exception {
    String timeout = req.headers().get("grpc-timeout");
    if (timeout != null && isGrpc(req.contentType()) && !TIMEOUT.matcher(timeout).matches()) {
      req.abort();
      return trailersOnly(req.contentType(), Status.Code.INVALID_ARGUMENT, "grpc-timeout '" + timeout
          + "' is not a gRPC timeout (expected: 1 to 8 digits and a unit: H, M, S, m, u or n)");
    }
    return delegate.serve(ctx, req);
  }

  /** The {@code grpc-message} form of a message: UTF-8, with {@code %} and bytes outside printable ASCII as %XX. */
  static String percentEncoded(String message) {
    StringBuilder encoded = new StringBuilder(message.length());
    for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
      if (b >= 0x20 && b < 0x7f && b != '%') {
        encoded.append((char) b);
      } else {
        encoded.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return encoded.toString();
  }

  /**
   * A message short enough for a header: at most {@value #MAX_MESSAGE} bytes once percent-encoded (a character
   * outside printable ASCII takes up to 12).
   */
  static String cut(String message) {
    int encoded = 0;
    for (int i = 0; i < message.length(); i = message.offsetByCodePoints(i, 1)) {
      int codePoint = message.codePointAt(i);
      encoded += codePoint >= 0x20 && codePoint < 0x7f && codePoint != '%' ? 1
          : 3 * new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8).length;
      if (encoded > MAX_MESSAGE - 3) {
        return message.substring(0, i) + "...";
      }
    }
    return message;
  }
}
