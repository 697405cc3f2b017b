package io.serval.server.inference;

import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.ModelNotFoundException;
import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.server.routing.RouteHints;
import io.serval.server.routing.ServedRoutes;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Where the front ends meet what they serve: resolves a name and version to a {@link Servable}, and runs a
 * request on it with the front end's encoder, releasing the request's memory once the answer is encoded.
 *
 * <pre>{@code
 * Servable servable = inferenceService.resolve("cls", "");
 * inferenceService.infer(servable, request, executor, GrpcInferCodec::encode).thenAccept(response -> send(response));
 * }</pre>
 */
public final class InferenceService {
  private final ModelServables models;
  private final ServedPipelines pipelines;
  private volatile @Nullable ServedRoutes routes;

  public InferenceService(ModelServables models, ServedPipelines pipelines) {
    this.models = models;
    this.pipelines = pipelines;
  }

  /** Serves {@code routes} too, by name, before pipelines and models (routes are built on this service). */
  public void serve(ServedRoutes routes) {
    this.routes = routes;
  }

  /**
   * What a request names: a route, a pipeline, or a model version (version empty: the default or highest ready
   * one; a label names a version). Front ends resolve before decoding, so that an unknown model or version is the
   * first thing reported, and hand the result to {@link #infer}.
   *
   * @throws io.serval.core.ModelNotFoundException for an unknown model or version
   * @throws io.serval.core.ModelUnavailableException for one that is known but not ready
   */
  public Servable resolve(String model, String version) {
    return resolve(model, version, RouteHints.NONE);
  }

  /**
   * {@link #resolve(String, String)} for a call whose headers a route may read: its sticky key and a variant it
   * forces.
   */
  public Servable resolve(String model, String version, RouteHints hints) {
    ServedRoutes served = routes;
    ServedRoutes.Entry route = served == null ? null : served.get(model);
    return route != null ? ServedRoutes.resolve(route, version, hints) : resolveTarget(model, version);
  }

  /** A model version or a pipeline, never a route: what a route's variants resolve to. */
  public Servable resolveTarget(String model, String version) {
    ServedPipelines.Entry pipeline = pipelines.get(model);
    return pipeline != null ? pipeline.resolve(version) : models.resolve(model, version);
  }

  /**
   * The pipeline {@code name}, for the endpoints that serve pipelines only.
   *
   * @throws io.serval.core.ModelNotFoundException when no pipeline has that name, listing those that do
   * @throws io.serval.core.ModelUnavailableException for one that did not compile
   */
  public Servable resolvePipeline(String name) {
    ServedPipelines.Entry pipeline = pipelines.get(name);
    if (pipeline == null) {
      List<String> names = pipelines.all().stream().map(ServedPipelines.Entry::name).sorted().toList();
      throw new ModelNotFoundException("no pipeline '" + name + "' (pipelines: "
          + (names.isEmpty() ? "none" : String.join(", ", names)) + ")");
    }
    return pipeline.resolve("");
  }

  /**
   * Runs a request on {@code servable} and encodes its answer with {@code encoder} on {@code executor} (never on
   * an instance worker). The request's memory is released once its answer is encoded or it failed, so whatever
   * the encoder makes must not keep views of the result's tensors. The future fails with a {@link
   * ServalException} (possibly wrapped; see {@link ServalException#of}); it never throws. Cancelling it takes the
   * request out of the queue if it has not started.
   *
   * @param executor where the answer is finished (post-processing, cache) and encoded; the front end's choice
   */
  public <T> CompletableFuture<T> infer(Servable servable, InferenceRequest request, Executor executor,
      Function<InferenceResult, T> encoder) {
    CompletableFuture<InferenceResult> result = servable.infer(request, executor);
    CompletableFuture<T> answer = new CompletableFuture<>();
    // Runs however the result completes (answer, failure or cancellation), so the memory is always released.
    result.handle((value, error) -> {
      try {
        if (error != null) {
          throw ServalException.of(error);
        }
        return encoder.apply(value);
      } finally {
        request.memory().release();
      }
    }).whenComplete((value, error) -> {
      if (error != null) {
        answer.completeExceptionally(ServalException.of(error));
      } else {
        answer.complete(value);
      }
    });
    answer.whenComplete((value, error) -> {
      if (error instanceof CancellationException) {
        result.cancel(false);
      }
    });
    return answer;
  }

}
