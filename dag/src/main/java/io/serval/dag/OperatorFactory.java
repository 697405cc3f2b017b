package io.serval.dag;

/**
 * Makes the operators of one type ({@code op: softmax} in a pipeline definition). Built-in and user factories
 * are found with {@link java.util.ServiceLoader} ({@code META-INF/services/io.serval.dag.OperatorFactory}), so a
 * jar on the classpath adds operators.
 */
public interface OperatorFactory {
  /** The type a definition names. */
  String type();

  /**
   * An operator for one node.
   *
   * @param parameters the node's {@code params}
   * @param servables what {@code infer}-like operators resolve models with
   * @throws IllegalArgumentException for a parameter it cannot take, naming it and what it expected
   */
  Operator create(NodeParameters parameters, ServableResolver servables);
}
