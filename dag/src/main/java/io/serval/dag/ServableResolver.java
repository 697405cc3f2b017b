package io.serval.dag;

import io.serval.core.Servable;

/** Finds what a pipeline's {@code infer} nodes call: the server's models (and other pipelines). */
@FunctionalInterface
public interface ServableResolver {
  /**
   * The servable named {@code name}, at {@code version} (empty: the one a request without a version gets).
   *
   * @throws io.serval.core.ModelNotFoundException for an unknown name or version
   * @throws io.serval.core.ModelUnavailableException for one that is known but not ready
   */
  Servable resolve(String name, String version);
}
