package io.serval.server.routing;

import java.util.List;

/** A route that cannot be served, with every problem found (file and field). */
public final class InvalidRouteException extends Exception {
  private static final long serialVersionUID = 1L;
  private final List<String> problems;

  public InvalidRouteException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
