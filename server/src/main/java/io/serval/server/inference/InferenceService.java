package io.serval.server.inference;

import io.serval.engine.EngineException;
import io.serval.engine.ErrorKind;
import io.serval.engine.InputValidator;
import io.serval.engine.InvalidInputException;
import io.serval.engine.RequestCancelledException;
import io.serval.engine.ServalException;
import io.serval.engine.Tensor;
import io.serval.engine.TensorSpec;
import io.serval.server.cache.ResponseCache;
import io.serval.server.config.TensorConfig;
import io.serval.server.metrics.ModelMetrics;
import io.serval.server.metrics.RequestTimings;
import io.serval.server.repository.ModelRepository;
import io.serval.server.repository.ModelVersion;
import io.serval.server.scheduling.Execution;
import io.serval.server.scheduling.QueueOptions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Runs prediction requests: resolves the model version, validates the inputs against its served signature,
 * answers from the response cache when the model enables it, queues the run on the version's instance pool
 * (where it may be batched with others), applies the classification extension and records statistics and
 * metrics for every outcome.
 *
 * <pre>{@code
 * ModelVersion version = inferenceService.resolve("cls", "");
 * inferenceService.infer(version, request).thenAccept(result -> encode(result));
 * }</pre>
 */
public final class InferenceService {
  private final ModelRepository repository;
  private final ResponseCache cache;
  private final long maxRequestElements;

  public InferenceService(ModelRepository repository, ResponseCache cache, long maxRequestElements) {
    this.repository = repository;
    this.cache = cache;
    this.maxRequestElements = maxRequestElements;
  }

  /** The model repository requests are resolved in. */
  public ModelRepository repository() {
    return repository;
  }

  /**
   * The version a request names (empty: the highest ready one). Front ends resolve before decoding, so that an
   * unknown model or version is the first thing reported, and hand the result to {@link #infer}.
   *
   * @throws io.serval.engine.ModelNotFoundException for an unknown model or version
   * @throws io.serval.engine.ModelUnavailableException for one that is known but not ready
   */
  public ModelVersion resolve(String model, String version) {
    return repository.resolve(model, version);
  }

  /**
   * Runs a request on {@code version} and encodes its answer with {@code encoder} on {@code executor} (never on an
   * instance worker). The request's memory is released once its answer is encoded or it failed, so whatever the
   * encoder makes must not keep views of the result's tensors. The future fails with a {@link ServalException}
   * (possibly wrapped; see {@link #unwrap}); it never throws. Cancelling it takes the request out of the queue if
   * it has not started.
   *
   * @param executor where the answer is finished (classification, cache) and encoded; the front end's choice
   */
  public <T> CompletableFuture<T> infer(ModelVersion version, InferenceRequest request, Executor executor,
      Function<InferenceResult, T> encoder) {
    long started = System.nanoTime();
    ModelMetrics metrics = version.metrics();
    metrics.started();
    CompletableFuture<T> answer = new CompletableFuture<>();
    try {
      checkElementCount(request);
      int batch = InputValidator.validate(
          version.label(), version.servedSignature(), version.config().maxBatchSize(), request.inputs());
      List<RequestedOutput> outputs = requestedOutputs(version, request);
      QueueOptions options = queueOptions(version, request);
      ResponseCache.Key key = null;
      if (version.config().responseCache()) {
        long lookup = System.nanoTime();
        key = cache.key(version.modelName(), version.versionString(), request.inputs(), outputs);
        List<Tensor> hit = cache.get(key);
        long now = System.nanoTime();
        if (hit != null) {
          metrics.cacheHit(batch, now - lookup, now - started);
        } else {
          metrics.cacheMiss(now - lookup);
        }
        if (hit != null) {
          InferenceResult cached = new InferenceResult(
              version.modelName(), version.versionString(), request.id(), hit, outputs, RequestTimings.NONE);
          return CompletableFuture.supplyAsync(
              () -> encodeAndRelease(request, () -> encoder.apply(cached)), executor);
        }
      }
      List<String> names = new ArrayList<>(outputs.size());
      outputs.forEach(output -> names.add(output.name()));
      ResponseCache.Key cacheKey = key;
      CompletableFuture<Execution> queued =
          version.pool().submit(request.inputs(), names, batch, options, request.memory());
      int rows = batch;
      // Recorded once: by the stage that answers, or as a cancellation if the caller gave up first.
      AtomicBoolean recorded = new AtomicBoolean();
      // The stage runs whenever the job completes (answer, failure or cancellation), so it always releases.
      CompletableFuture<T> encoded = queued.handleAsync((execution, error) -> encodeAndRelease(request, () -> {
        if (error != null) {
          ServalException failure = unwrap(error);
          if (recorded.compareAndSet(false, true)) {
            metrics.failure(failure.kind(), System.nanoTime() - started);
          }
          throw failure;
        }
        InferenceResult result = finish(version, request, outputs, execution, cacheKey);
        if (recorded.compareAndSet(false, true)) {
          metrics.success(rows, result.timings(), System.nanoTime() - started);
        }
        return encoder.apply(result);
      }), executor);
      encoded.whenComplete((value, error) -> complete(answer, value, error));
      answer.whenComplete((value, error) -> {
        if (error instanceof CancellationException) {
          queued.cancel(false);
          if (recorded.compareAndSet(false, true)) {
            metrics.failure(ErrorKind.CANCELLED, System.nanoTime() - started);
          }
        }
      });
      return answer;
    } catch (ServalException e) {
      request.memory().release();
      metrics.failure(e.kind(), System.nanoTime() - started);
      return CompletableFuture.failedFuture(e);
    }
  }

  private static <T> T encodeAndRelease(InferenceRequest request, Supplier<T> encode) {
    try {
      return encode.get();
    } finally {
      request.memory().release();
    }
  }

  private static <T> void complete(CompletableFuture<T> answer, @Nullable T value, @Nullable Throwable error) {
    if (error != null) {
      answer.completeExceptionally(error instanceof CompletionException && error.getCause() != null
          ? error.getCause() : error);
    } else {
      answer.complete(value);
    }
  }

  private InferenceResult finish(ModelVersion version, InferenceRequest request, List<RequestedOutput> outputs,
      Execution execution, ResponseCache.@Nullable Key cacheKey) {
    long outputStarted = System.nanoTime();
    boolean batched = version.config().maxBatchSize() > 0;
    List<Tensor> tensors = new ArrayList<>(outputs.size());
    for (int i = 0; i < outputs.size(); i++) {
      RequestedOutput output = outputs.get(i);
      Tensor tensor = execution.outputs().get(i);
      if (output.classification() > 0) {
        TensorConfig config = version.config().output(output.name());
        tensor = Classification.topK(
            tensor, output.classification(), batched, config == null ? List.of() : config.labels());
      }
      tensors.add(tensor);
    }
    if (cacheKey != null) {
      cache.put(cacheKey, tensors);
    }
    RequestTimings timings = execution.timings().plusComputeOutput(System.nanoTime() - outputStarted);
    return new InferenceResult(
        version.modelName(), version.versionString(), request.id(), tensors, outputs, timings);
  }

  private static QueueOptions queueOptions(ModelVersion version, InferenceRequest request) {
    int priority = (int) nonNegative(version, request, "priority", 0, Integer.MAX_VALUE);
    long timeout = nonNegative(version, request, "timeout", -1, Long.MAX_VALUE / 1000);
    return QueueOptions.of(priority, timeout, request.deadlineNanos());
  }

  private static long nonNegative(ModelVersion version, InferenceRequest request, String name, long absent,
      long max) {
    Object value = request.parameters().get(name);
    if (value == null) {
      return absent;
    }
    if (!(value instanceof Long) || (Long) value < 0 || (Long) value > max) {
      throw new InvalidInputException(version.label() + ": parameter '" + name + "' is " + value
          + " (expected: an integer from 0 to " + max + ")");
    }
    return (Long) value;
  }

  private void checkElementCount(InferenceRequest request) {
    long total = 0;
    for (Tensor input : request.inputs()) {
      total += input.elementCount();
    }
    if (total > maxRequestElements) {
      throw new InvalidInputException("the request carries " + total + " tensor elements (expected: at most "
          + maxRequestElements + ", the server's limits.max_request_elements)");
    }
  }

  private static List<RequestedOutput> requestedOutputs(ModelVersion version, InferenceRequest request) {
    List<RequestedOutput> requested = request.outputs();
    List<TensorSpec> served = version.servedSignature().outputs();
    if (requested == null || requested.isEmpty()) {
      List<RequestedOutput> all = new ArrayList<>(served.size());
      served.forEach(spec -> all.add(new RequestedOutput(spec.name(), request.binaryOutputsByDefault(), 0)));
      return all;
    }
    Set<String> seen = new HashSet<>();
    for (RequestedOutput output : requested) {
      if (version.servedSignature().output(output.name()) == null) {
        List<String> names = new ArrayList<>();
        served.forEach(spec -> names.add("'" + spec.name() + "'"));
        throw new InvalidInputException(version.label() + ": unexpected output '" + output.name()
            + "' (expected: " + String.join(", ", names) + ")");
      }
      if (!seen.add(output.name())) {
        throw new InvalidInputException(version.label() + ": output '" + output.name() + "' is requested twice");
      }
    }
    return requested;
  }

  /** The {@link ServalException} behind a failed future; anything else becomes an internal error. */
  public static ServalException unwrap(Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ServalException) {
      return (ServalException) cause;
    }
    if (cause instanceof CancellationException) {
      return new RequestCancelledException("the request was cancelled before it ran");
    }
    return new EngineException("internal error: " + cause, cause);
  }
}
