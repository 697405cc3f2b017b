package io.serval.engine;

import io.serval.core.InputValidator;
import io.serval.core.InternalException;
import io.serval.core.ModelSignature;
import io.serval.core.Tensor;
import java.util.List;

/**
 * One loaded copy of a model, with its own engine session. An instance runs one request at a time; the server
 * keeps a pool of instances per model version to run several.
 */
public interface ModelInstance extends AutoCloseable {
  /** The model's own inputs and outputs, as the engine reads them from the model file. */
  ModelSignature signature();

  /**
   * Runs the model. The inputs have been checked with {@link InputValidator} against the served signature and
   * stay valid until the run returns; the result holds the outputs named in {@code outputNames}, in that order,
   * allocated with {@link RunContext#allocate} (so they are freed with the request, not by the garbage collector),
   * and the time each phase took. An engine that can be interrupted registers how with {@link
   * RunContext#onAbort}; an aborted run throws.
   *
   * @throws InternalException when the engine fails
   */
  RunResult run(List<Tensor> inputs, List<String> outputNames, RunContext context);

  /** Releases the engine session and its native memory. */
  @Override
  void close();
}
