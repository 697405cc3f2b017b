package io.serval.core;

import org.jspecify.annotations.Nullable;

/** A model version that is known but not ready to serve (loading, failed or unloaded). */
public final class ModelUnavailableException extends ServalException {
  private static final long serialVersionUID = 1L;

  public ModelUnavailableException(String message) {
    this(message, null);
  }

  public ModelUnavailableException(String message, @Nullable Throwable cause) {
    super(ErrorKind.UNAVAILABLE, message, cause);
  }
}
