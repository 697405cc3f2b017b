package io.serval.loadtest;

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

  String kind() {
    return kind;
  }
}
