package io.serval.dag;

import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What a node of a pipeline computes. Its {@link OperatorFactory} creates one per node when the pipeline loads;
 * {@link #run} is then called once per request, from several requests at once.
 */
public interface Operator {
  /** The inputs it takes, by name: the pipeline definition wires each exactly once. */
  List<String> inputNames();

  /**
   * Its outputs' specs, from its inputs' specs as far as the definition knows them: how a pipeline's datatypes
   * and shapes are checked along every edge before it serves.
   *
   * @throws IllegalArgumentException for inputs it cannot take, naming the input and what it expected
   */
  List<TensorSpec> outputs(Map<String, TensorSpec> inputs);

  /**
   * Runs on one request's inputs, by name, and completes with its outputs in the order of {@link #outputs},
   * allocated in {@code context.memory()}. Work that waits (a model's queue) completes the future later instead
   * of blocking; a failure is a {@link io.serval.core.ServalException} of the kind that fits.
   */
  CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context);
}
