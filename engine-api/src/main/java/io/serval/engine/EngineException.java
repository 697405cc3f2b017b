package io.serval.engine;

import org.jspecify.annotations.Nullable;

/** A failure inside an inference engine while running a model. */
public final class EngineException extends ServalException {
  private static final long serialVersionUID = 1L;

  public EngineException(String message) {
    this(message, null);
  }

  public EngineException(String message, @Nullable Throwable cause) {
    super(ErrorKind.INTERNAL, message, cause);
  }
}
