package io.serval.engine;

/**
 * A model that could not be inspected or loaded; its message says why (file, field, expected value) and is
 * shown in the repository index as the version's reason.
 */
public final class ModelLoadException extends Exception {
  private static final long serialVersionUID = 1L;

  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
