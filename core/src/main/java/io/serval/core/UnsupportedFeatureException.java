package io.serval.core;

import org.jspecify.annotations.Nullable;

/** A request for a protocol feature or data type that Serval does not implement. */
public final class UnsupportedFeatureException extends ServalException {
  private static final long serialVersionUID = 1L;

  public UnsupportedFeatureException(String message) {
    this(message, null);
  }

  public UnsupportedFeatureException(String message, @Nullable Throwable cause) {
    super(ErrorKind.UNSUPPORTED, message, cause);
  }
}
