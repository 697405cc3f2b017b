package io.serval.engine;

/**
 * The {@link java.util.ServiceLoader} entry point of an engine module: the server finds every provider on the
 * class path and creates the engines the configuration asks for.
 */
public interface InferenceEngineProvider {
  /** The engine's name, as models and the server configuration refer to it. */
  String name();

  /**
   * Creates the engine. An engine whose native runtime is missing is still returned, reporting {@link
   * EngineAvailability#unavailable(String)}, so that the server can say why.
   */
  InferenceEngine create(EngineContext context);
}
