package io.serval.server.engines;

import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;
import io.serval.engine.ModelLoadException;
import io.serval.server.config.ServerConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The engines found on the class path, created once with the server's CPU budget and their settings. */
public final class EngineRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EngineRegistry.class);

  private final Map<String, InferenceEngine> engines;

  private EngineRegistry(Map<String, InferenceEngine> engines) {
    this.engines = engines;
  }

  /** Creates every engine whose provider is on the class path; unavailable ones are kept to say why. */
  public static EngineRegistry create(ServerConfig config) {
    Map<String, InferenceEngine> engines = new LinkedHashMap<>();
    for (InferenceEngineProvider provider : ServiceLoader.load(InferenceEngineProvider.class)) {
      InferenceEngine engine =
          provider.create(EngineContext.of(config.cpuThreads(), config.engineSettings(provider.name())));
      engines.put(provider.name(), engine);
      if (engine.availability().isAvailable()) {
        log.info("engine {}: available, {}", engine.name(), engine.threadingSummary());
      } else {
        log.warn("engine {}: {}", engine.name(), engine.availability());
      }
    }
    return new EngineRegistry(engines);
  }

  /**
   * The available engine of that name.
   *
   * @throws ModelLoadException when no such engine is on the class path or it cannot run here, saying why
   */
  public InferenceEngine engine(String name) throws ModelLoadException {
    InferenceEngine engine = engines.get(name);
    if (engine == null) {
      throw new ModelLoadException("backend '" + name + "' is not installed (expected one of: "
          + String.join(", ", engines.keySet()) + ")");
    }
    if (!engine.availability().isAvailable()) {
      throw new ModelLoadException("backend '" + name + "' is " + engine.availability());
    }
    return engine;
  }

  @Override
  public void close() {
    engines.values().forEach(InferenceEngine::close);
  }
}
