package io.serval.client.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.ResponseTimeoutException;
import com.linecorp.armeria.client.UnprocessedRequestException;
import com.linecorp.armeria.client.circuitbreaker.FailFastException;
import com.linecorp.armeria.client.endpoint.EmptyEndpointGroupException;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ClosedSessionException;
import com.linecorp.armeria.common.stream.ClosedStreamException;
import io.grpc.Status;
import io.serval.client.ServalClientException;
import java.io.IOException;
import java.net.ConnectException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** The one place a failed call becomes a {@link ServalClientException}, for both transports. */
public final class Failures {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  /** Serval's internal-error message names the id its log holds the details under. */
  private static final Pattern REQUEST_ID = Pattern.compile("request id ([0-9A-Za-z_-]+)");

  private Failures() {}

  /** The typed error behind {@code failure} (through {@link CompletionException}s). */
  public static ServalClientException of(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ServalClientException typed) {
      return typed;
    }
    if (causedBy(cause, FailFastException.class)) {
      return ServalClientException.circuitOpen(cause);
    }
    Status status = statusOf(cause);
    if (status != null) {
      String message = status.getDescription() != null ? status.getDescription()
          : status.getCause() != null ? String.valueOf(status.getCause()) : status.getCode().name();
      return ServalClientException.ofGrpc(status.getCode(), message, requestId(message), cause);
    }
    if (causedBy(cause, ResponseTimeoutException.class)) {
      return ServalClientException.timedOut("no answer within the call's timeout", cause);
    }
    if (causedBy(cause, UnprocessedRequestException.class) || causedBy(cause, EmptyEndpointGroupException.class)
        || causedBy(cause, ClosedSessionException.class) || causedBy(cause, ClosedStreamException.class)
        || causedBy(cause, ConnectException.class)) {
      return ServalClientException.unreachable("no server could be reached: " + cause, cause);
    }
    return ServalClientException.unexpected("the call failed: " + cause, cause);
  }

  /** The error of an HTTP answer that is not a success: its v2 error body's message and request id. */
  public static ServalClientException ofHttp(AggregatedHttpResponse response) {
    String body = response.contentUtf8();
    String message = body.isBlank() ? response.status().toString() : body;
    String requestId = null;
    try {
      JsonNode json = MAPPER.readTree(body);
      if (json != null && json.isObject()) {
        message = json.path("error").asText(message);
        requestId = json.hasNonNull("request_id") ? json.get("request_id").asText() : null;
      }
    } catch (IOException e) {
      // Not a v2 error body (a proxy's page, say): the body itself is the message.
    }
    return ServalClientException.ofHttp(response.status().code(), message,
        requestId != null ? requestId : requestId(message));
  }

  private static @Nullable Status statusOf(Throwable error) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (cause instanceof io.grpc.StatusRuntimeException runtime) {
        return runtime.getStatus();
      }
      if (cause instanceof io.grpc.StatusException checked) {
        return checked.getStatus();
      }
    }
    return null;
  }

  private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (type.isInstance(cause)) {
        return true;
      }
    }
    return false;
  }

  private static @Nullable String requestId(String message) {
    Matcher matcher = REQUEST_ID.matcher(message);
    return matcher.find() ? matcher.group(1) : null;
  }
}
