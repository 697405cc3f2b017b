package io.serval.core;

import org.jspecify.annotations.Nullable;

/** A request that is malformed or does not fit the model's signature. */
public final class InvalidInputException extends ServalException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    this(message, null);
  }

  public InvalidInputException(String message, @Nullable Throwable cause) {
    super(ErrorKind.INVALID_ARGUMENT, message, cause);
  }
}
