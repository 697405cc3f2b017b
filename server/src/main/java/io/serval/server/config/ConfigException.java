package io.serval.server.config;

import java.util.List;

/** Configuration that cannot be used; {@link #errors()} has one line per problem, each with file and field. */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final List<String> errors;

  public ConfigException(List<String> errors) {
    super(String.join("; ", errors));
    this.errors = List.copyOf(errors);
  }

  public List<String> errors() {
    return errors;
  }
}
