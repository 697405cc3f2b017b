package io.serval.core;

import org.jspecify.annotations.Nullable;

/** A model, or a version of it, that the server does not know. */
public final class ModelNotFoundException extends ServalException {
  private static final long serialVersionUID = 1L;

  public ModelNotFoundException(String message) {
    this(message, null);
  }

  public ModelNotFoundException(String message, @Nullable Throwable cause) {
    super(ErrorKind.NOT_FOUND, message, cause);
  }
}
