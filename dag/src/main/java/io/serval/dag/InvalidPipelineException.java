package io.serval.dag;

import java.util.List;

/** A pipeline that cannot be served, with every problem found, each naming its file, node and field. */
public final class InvalidPipelineException extends Exception {
  private static final long serialVersionUID = 1L;
  private final List<String> problems;

  InvalidPipelineException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  /** Each problem, e.g. {@code pipeline.yaml: node 'prep': inputs.image: no node 'decod' (expected one of: ...)}. */
  public List<String> problems() {
    return problems;
  }
}
