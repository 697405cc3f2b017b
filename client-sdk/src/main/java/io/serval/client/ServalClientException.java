package io.serval.client;

import io.grpc.Status;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The root of the client's typed errors: a call the server refused or failed, or one that never got an answer.
 * It carries the status as the transport reported it ({@link #httpStatus()} or {@link #grpcStatus()}), the
 * server's own message, and the request id the server logged it under, when the server sent one (Serval's HTTP
 * error bodies and internal-error messages do).
 *
 * <p>The subclass says what to do about it: {@link InvalidRequestException} (fix the request; never retried),
 * {@link AuthenticationException}, {@link PermissionDeniedException}, {@link NotFoundException}, {@link
 * ServerOverloadedException} and {@link ServerUnavailableException} (retried by the client when it may be, and
 * thrown once the retries are spent), {@link CallTimeoutException}, {@link UnsupportedCallException} and {@link
 * ServerErrorException}.
 */
public abstract class ServalClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  /** Serval's internal-error message names the id its log holds the details under. */
  private static final Pattern REQUEST_ID = Pattern.compile("request id ([0-9A-Za-z_-]+)");

  private final int httpStatus;
  private final @Nullable String grpcStatus;
  private final String serverMessage;
  private final @Nullable String requestId;

  ServalClientException(int httpStatus, @Nullable String grpcStatus, String serverMessage,
      @Nullable String requestId, @Nullable Throwable cause) {
    super(describe(httpStatus, grpcStatus, serverMessage, requestId), cause);
    this.httpStatus = httpStatus;
    this.grpcStatus = grpcStatus;
    this.serverMessage = serverMessage;
    this.requestId = requestId;
  }

  private static String describe(int httpStatus, @Nullable String grpcStatus, String message,
      @Nullable String requestId) {
    String status = httpStatus > 0 ? "HTTP " + httpStatus : grpcStatus != null ? "gRPC " + grpcStatus : "no answer";
    return status + ": " + message
        + (requestId == null || message.contains(requestId) ? "" : " (request id " + requestId + ")");
  }

  /**
   * The error for an HTTP answer with status {@code status}, the message of its v2 error body and its
   * {@code request_id}.
   */
  public static ServalClientException ofHttp(int status, String message, @Nullable String requestId) {
    return switch (status) {
      case 400, 409, 412, 413, 415, 422 -> new InvalidRequestException(status, null, message, requestId, null);
      case 401 -> new AuthenticationException(status, null, message, requestId, null);
      case 403 -> new PermissionDeniedException(status, null, message, requestId, null);
      case 404 -> new NotFoundException(status, null, message, requestId, null);
      case 429 -> new ServerOverloadedException(status, null, message, requestId, null);
      case 502, 503 -> new ServerUnavailableException(status, null, message, requestId, null);
      case 408, 504 -> new CallTimeoutException(status, null, message, requestId, null);
      case 405, 501 -> new UnsupportedCallException(status, null, message, requestId, null);
      default -> new ServerErrorException(status, null, message, requestId, null);
    };
  }

  /** The error for a gRPC call that ended with {@code code} and the description {@code message}. */
  public static ServalClientException ofGrpc(Status.Code code, String message, @Nullable String requestId,
      @Nullable Throwable cause) {
    String name = code.name();
    return switch (code) {
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS ->
          new InvalidRequestException(0, name, message, requestId, cause);
      case UNAUTHENTICATED -> new AuthenticationException(0, name, message, requestId, cause);
      case PERMISSION_DENIED -> new PermissionDeniedException(0, name, message, requestId, cause);
      case NOT_FOUND -> new NotFoundException(0, name, message, requestId, cause);
      case RESOURCE_EXHAUSTED -> isTooLarge(message)
          ? new InvalidRequestException(0, name, message, requestId, cause)
          : new ServerOverloadedException(0, name, message, requestId, cause);
      case UNAVAILABLE, ABORTED -> new ServerUnavailableException(0, name, message, requestId, cause);
      case DEADLINE_EXCEEDED, CANCELLED -> new CallTimeoutException(0, name, message, requestId, cause);
      case UNIMPLEMENTED -> new UnsupportedCallException(0, name, message, requestId, cause);
      default -> new ServerErrorException(0, name, message, requestId, cause);
    };
  }

  /**
   * Whether a RESOURCE_EXHAUSTED answer refuses the request for its size (a message over the server's
   * {@code limits.max_request_bytes}, which gRPC servers answer with the same code as overload, saying "larger
   * than" the limit): an input error, never retried, unlike overload.
   */
  public static boolean isTooLarge(@Nullable String message) {
    return message != null && message.contains("larger than");
  }

  /**
   * A request of a gRPC inference stream that failed: the v2 stream answers it with a message only, no status,
   * so it is reported as a {@link ServerErrorException} carrying the server's message.
   */
  public static ServerErrorException ofStreamError(String message) {
    Matcher matcher = REQUEST_ID.matcher(message);
    return new ServerErrorException(0, null, message, matcher.find() ? matcher.group(1) : null, null);
  }

  /** A call that got no answer because no server could be reached (refused, reset, no healthy endpoint). */
  public static ServerUnavailableException unreachable(String message, Throwable cause) {
    return new ServerUnavailableException(0, null, message, null, cause);
  }

  /** A call whose timeout passed before it was answered, on the client's side. */
  public static CallTimeoutException timedOut(String message, Throwable cause) {
    return new CallTimeoutException(0, null, message, null, cause);
  }

  /** A call the circuit breaker refused without sending, because the server failed too often lately. */
  public static CircuitOpenException circuitOpen(Throwable cause) {
    return new CircuitOpenException(cause);
  }

  /** A failure of the client itself, or an answer it cannot read. */
  public static ServerErrorException unexpected(String message, Throwable cause) {
    return new ServerErrorException(0, null, message, null, cause);
  }

  /** The HTTP status of the answer, or 0 for a gRPC call or a call that got no answer. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The gRPC status code's name ({@code "INVALID_ARGUMENT"}), or {@code null} for an HTTP call. */
  public @Nullable String grpcStatus() {
    return grpcStatus;
  }

  /** The server's own message (or the client's, when there was no answer). */
  public String serverMessage() {
    return serverMessage;
  }

  /** The id the server logged the request under, or {@code null} when the answer did not say. */
  public @Nullable String requestId() {
    return requestId;
  }
}
