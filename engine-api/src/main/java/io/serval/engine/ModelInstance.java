package io.serval.engine;

import java.util.List;

/**
 * One loaded copy of a model, with its own engine session. An instance runs one request at a time; the server
 * keeps a pool of instances per model version to run several.
 */
public interface ModelInstance extends AutoCloseable {
  /** The model's own inputs and outputs, as the engine reads them from the model file. */
  ModelSignature signature();

  /**
   * Runs the model. The inputs have been checked with {@link InputValidator} against the served signature;
   * the result holds the outputs named in {@code outputNames}, in that order, and the time each phase took.
   *
   * @throws EngineException when the engine fails
   */
  RunResult run(List<Tensor> inputs, List<String> outputNames);

  /** Releases the engine session and its native memory. */
  @Override
  void close();
}
