package io.serval.core;

import org.jspecify.annotations.Nullable;

/** A request refused because the model's queue is full; the caller should retry later. */
public final class OverloadedException extends ServalException {
  private static final long serialVersionUID = 1L;

  public OverloadedException(String message) {
    this(message, null);
  }

  public OverloadedException(String message, @Nullable Throwable cause) {
    super(ErrorKind.OVERLOADED, message, cause);
  }
}
