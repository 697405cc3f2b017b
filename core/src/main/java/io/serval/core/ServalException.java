package io.serval.core;

import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
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

  /**
   * The {@link ServalException} behind a failed future's error (through {@link CompletionException}s); a
   * cancellation becomes a {@link RequestCancelledException}, anything else an {@link InternalException}.
   */
  public static ServalException of(Throwable error) {
    Throwable cause = unwrapped(error);
    if (cause instanceof ServalException) {
      return (ServalException) cause;
    }
    if (cause instanceof CancellationException) {
      return new RequestCancelledException("the request was cancelled before it ran");
    }
    return new InternalException("internal error: " + cause, cause);
  }

  /** What failed a future: {@code error} without the {@link CompletionException}s around it. */
  public static Throwable unwrapped(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** How the protocols report this error. */
  public ErrorKind kind() {
    return kind;
  }
}
