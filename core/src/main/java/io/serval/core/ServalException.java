package io.serval.core;

import org.jspecify.annotations.Nullable;

/**
 * The root of Serval's typed errors. Its message is written for the caller: it names the model, input or
 * field at fault and what was expected, and never carries a stack trace to the wire.
 */
public abstract class ServalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;

  /**
   * Errors a caller causes (every kind but {@link ErrorKind#INTERNAL}) are expected under load and carry no stack
   * trace, which would be the costliest part of answering them; internal errors keep theirs for the log.
   */
  protected ServalException(ErrorKind kind, String message, @Nullable Throwable cause) {
    super(message, cause, true, kind == ErrorKind.INTERNAL);
    this.kind = kind;
  }

  /** How the protocols report this error. */
  public ErrorKind kind() {
    return kind;
  }
}
