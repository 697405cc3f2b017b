package io.serval.dag;

import io.serval.core.ErrorKind;
import io.serval.core.ServalException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;

/** The kind of a failure a node's future completed with. */
final class InferenceFailures {
  private InferenceFailures() {}

  /** A {@link ServalException}'s own kind, CANCELLED for a cancellation, INTERNAL for anything else. */
  static ErrorKind kindOf(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ServalException) {
      return ((ServalException) cause).kind();
    }
    return cause instanceof CancellationException ? ErrorKind.CANCELLED : ErrorKind.INTERNAL;
  }
}
