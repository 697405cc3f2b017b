package io.serval.core;

import org.jspecify.annotations.Nullable;

/** A request the caller cancelled (or abandoned) before it ran; it was never executed. */
public final class RequestCancelledException extends ServalException {
  private static final long serialVersionUID = 1L;

  public RequestCancelledException(String message) {
    this(message, null);
  }

  public RequestCancelledException(String message, @Nullable Throwable cause) {
    super(ErrorKind.CANCELLED, message, cause);
  }
}
