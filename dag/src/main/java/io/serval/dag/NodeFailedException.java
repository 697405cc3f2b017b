package io.serval.dag;

import io.serval.core.ErrorKind;
import io.serval.core.ServalException;
import org.jspecify.annotations.Nullable;

/** A pipeline request that failed in one node: the node's failure, of its kind, with the node named. */
public final class NodeFailedException extends ServalException {
  private static final long serialVersionUID = 1L;

  NodeFailedException(ErrorKind kind, String message, @Nullable Throwable cause) {
    super(kind, message, cause);
  }
}
