package io.serval.core;

import org.jspecify.annotations.Nullable;

/** A request body larger than the configured limit. */
public final class PayloadTooLargeException extends ServalException {
  private static final long serialVersionUID = 1L;

  public PayloadTooLargeException(String message) {
    this(message, null);
  }

  public PayloadTooLargeException(String message, @Nullable Throwable cause) {
    super(ErrorKind.TOO_LARGE, message, cause);
  }
}
