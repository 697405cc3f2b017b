package io.serval.server.inference;

import io.serval.core.Servable;
import io.serval.server.cache.ResponseCache;
import io.serval.server.repository.ModelRepository;

/** The repository's models as {@link Servable}s: what requests and pipelines' {@code infer} nodes call. */
public final class ModelServables {
  private final ModelRepository repository;
  private final ResponseCache cache;
  private final long maxRequestElements;

  public ModelServables(ModelRepository repository, ResponseCache cache, long maxRequestElements) {
    this.repository = repository;
    this.cache = cache;
    this.maxRequestElements = maxRequestElements;
  }

  /**
   * The model version a name and version resolve to (version empty: the highest ready one).
   *
   * @throws io.serval.core.ModelNotFoundException for an unknown model or version
   * @throws io.serval.core.ModelUnavailableException for one that is known but not ready
   */
  public Servable resolve(String model, String version) {
    return new ServedModel(repository.resolve(model, version), version, this, cache, maxRequestElements);
  }
}
