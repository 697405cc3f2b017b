package io.serval.engine;

import java.util.Map;

/**
 * What the server gives an engine when it creates it: the CPU threads the engine may use for all the model
 * instances it will run, and engine-specific settings from the server configuration.
 */
public final class EngineContext {
  private final int cpuThreads;
  private final Map<String, String> settings;

  private EngineContext(int cpuThreads, Map<String, String> settings) {
    this.cpuThreads = cpuThreads;
    this.settings = Map.copyOf(settings);
  }

  /** A context; throws when {@code cpuThreads} is below 1. */
  public static EngineContext of(int cpuThreads, Map<String, String> settings) {
    if (cpuThreads < 1) {
      throw new IllegalArgumentException("cpuThreads: " + cpuThreads + " (expected: >= 1)");
    }
    return new EngineContext(cpuThreads, settings);
  }

  /** The number of CPU threads all of this engine's model instances may use together. */
  public int cpuThreads() {
    return cpuThreads;
  }

  /** Engine-specific settings, as written in the server configuration. */
  public Map<String, String> settings() {
    return settings;
  }
}
