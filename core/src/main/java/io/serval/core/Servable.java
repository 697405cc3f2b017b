package io.serval.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * What the front ends call, whatever answers: a model version, a pipeline, a traffic route. They resolve a name
 * and version to a servable, decode the request against its {@link #signature()}, and call {@link #infer}.
 *
 * <p>Memory: the caller owns the request's {@link MemoryScope}. The result's tensors live in it (or in scopes
 * attached to it), so the caller releases it once it is done with the result, whether the call succeeded or not.
 *
 * <pre>{@code
 * Servable servable = resolver.resolve("mnist", "");
 * servable.infer(request, executor)
 *     .whenComplete((result, error) -> { encode(result, error); request.memory().release(); });
 * }</pre>
 */
public interface Servable {
  /** The name requests use. */
  String name();

  /** The version, as the protocol writes it. */
  String version();

  /** What requests are checked against, batch dimension included when {@link #maxBatchSize()} is above 0. */
  ModelSignature signature();

  /** The largest batch one request may carry along its first dimension; 0 when requests are not batched. */
  int maxBatchSize();

  /** A label for messages, e.g. {@code model 'mnist' version 1}. */
  String label();

  /**
   * Runs {@code request}. Never blocks and never throws: the future completes, on {@code executor} or a thread
   * of the servable's own but never on an instance's worker, with the result or with the {@link
   * ServalException} that failed it (possibly wrapped in a {@link java.util.concurrent.CompletionException}).
   * Cancelling the future takes the request out of any queue it is still waiting in.
   *
   * @param executor where the result is finished (post-processing, caching): the caller's choice
   */
  CompletableFuture<InferenceResult> infer(InferenceRequest request, Executor executor);
}
