package io.serval.engine;

import org.jspecify.annotations.Nullable;

/**
 * The root of Serval's typed errors. Its message is written for the caller: it names the model, input or
 * field at fault and what was expected, and never carries a stack trace to the wire.
 */
public abstract class ServalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;

  protected ServalException(ErrorKind kind, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  /** How the protocols report this error. */
  public ErrorKind kind() {
    return kind;
  }
}
