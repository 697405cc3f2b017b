package io.serval.core;

import org.jspecify.annotations.Nullable;

/** A request whose deadline passed before it ran; it was never executed. */
public final class DeadlineExceededException extends ServalException {
  private static final long serialVersionUID = 1L;

  public DeadlineExceededException(String message) {
    this(message, null);
  }

  public DeadlineExceededException(String message, @Nullable Throwable cause) {
    super(ErrorKind.DEADLINE_EXCEEDED, message, cause);
  }
}
