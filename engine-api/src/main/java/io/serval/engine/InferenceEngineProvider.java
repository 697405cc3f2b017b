package io.serval.engine;

/**
 * The {@link java.util.ServiceLoader} entry point of an engine module: the server finds every provider on the
 * class path and creates the engines the configuration asks for.
 */
public interface InferenceEngineProvider {
  /** The engine's name, as models and the server configuration refer to it. */
  String name();

  /**
   * The pool of CPU threads this engine's runs use, by name: engines that share one (the ONNX Runtime engines do)
   * name the same, so the server's CPU budget counts it once; empty for an engine that computes on another processor
   * and needs only a thread on the CPU to drive it. By default, a pool of the engine's own.
   */
  default String threadPool() {
    return name();
  }

  /**
   * Creates the engine. An engine whose native runtime is missing is still returned, reporting {@link
   * EngineAvailability#unavailable(String)}, so that the server can say why.
   */
  InferenceEngine create(EngineContext context);
}
