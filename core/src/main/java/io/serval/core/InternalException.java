package io.serval.core;

import org.jspecify.annotations.Nullable;

/** An unexpected failure (an engine that broke while running a model, a bug): INTERNAL, logged with its stack. */
public final class InternalException extends ServalException {
  private static final long serialVersionUID = 1L;

  public InternalException(String message) {
    this(message, null);
  }

  public InternalException(String message, @Nullable Throwable cause) {
    super(ErrorKind.INTERNAL, message, cause);
  }
}
