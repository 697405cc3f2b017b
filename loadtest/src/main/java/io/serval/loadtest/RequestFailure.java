package io.serval.loadtest;

import com.linecorp.armeria.client.ResponseTimeoutException;
import com.linecorp.armeria.client.UnprocessedRequestException;
import java.util.concurrent.CompletionException;

/**
 * A request that did not succeed, by kind: {@code http 503}, {@code grpc UNAVAILABLE}, {@code timeout}, {@code
 * connect}, {@code dropped} (an open-loop arrival past --max-outstanding) or {@code other}. Stackless: thousands
 * may be counted per second.
 */
final class RequestFailure extends RuntimeException {
  private final String kind;

  RequestFailure(String kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  /** The failure {@code error} is, unwrapped from a {@link CompletionException}: its own kind, or classified. */
  static RequestFailure of(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (cause instanceof RequestFailure failure) {
      return failure;
    }
    if (cause instanceof ResponseTimeoutException) {
      return new RequestFailure("timeout", "no answer within --timeout");
    }
    if (cause instanceof UnprocessedRequestException) {
      return new RequestFailure("connect", String.valueOf(cause.getCause()));
    }
    return new RequestFailure("other " + cause.getClass().getSimpleName(), String.valueOf(cause.getMessage()));
  }

  String kind() {
    return kind;
  }
}
