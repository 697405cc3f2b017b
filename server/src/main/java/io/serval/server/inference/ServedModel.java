package io.serval.server.inference;

import io.serval.core.ErrorKind;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.InputValidator;
import io.serval.core.InvalidInputException;
import io.serval.core.ModelSignature;
import io.serval.core.ModelUnavailableException;
import io.serval.core.RequestTimings;
import io.serval.core.RequestedOutput;
import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.core.Tensor;
import io.serval.server.cache.ResponseCache;
import io.serval.server.config.TensorConfig;
import io.serval.server.metrics.ModelMetrics;
import io.serval.server.repository.ModelVersion;
import io.serval.server.scheduling.Execution;
import io.serval.server.scheduling.QueueOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * A model version as a {@link Servable}: validates the inputs against its served signature, answers from the
 * response cache when the model enables it, queues the run on the version's instance pool (where it may be
 * batched with others), applies the classification extension, and records statistics and metrics for every
 * outcome, cancellations included.
 *
 * <p>A request enters the version for as long as it runs there, so a version replaced by a reload finishes what
 * it took. One that arrives after the version was retired (it was resolved just before the swap) is handed to
 * what the name it asked for resolves to now: the new load, or a precise not-found when the version is gone.
 */
final class ServedModel implements Servable {
  private final ModelVersion version;
  private final String requestedVersion;
  private final ModelServables servables;
  private final ResponseCache cache;
  private final long maxRequestElements;

  ServedModel(ModelVersion version, String requestedVersion, ModelServables servables, ResponseCache cache,
      long maxRequestElements) {
    this.version = version;
    this.requestedVersion = requestedVersion;
    this.servables = servables;
    this.cache = cache;
    this.maxRequestElements = maxRequestElements;
  }

  @Override
  public String name() {
    return version.modelName();
  }

  @Override
  public String version() {
    return version.versionString();
  }

  @Override
  public ModelSignature signature() {
    return version.servedSignature();
  }

  @Override
  public int maxBatchSize() {
    return version.config().maxBatchSize();
  }

  @Override
  public String label() {
    return version.label();
  }

  @Override
  public CompletableFuture<InferenceResult> infer(InferenceRequest request, Executor executor) {
    if (!version.enter()) {
      try {
        Servable now = servables.resolve(name(), requestedVersion);
        if (now instanceof ServedModel served && served.version == version) {
          throw new ModelUnavailableException(label() + " is being unloaded");
        }
        return now.infer(request, executor);
      } catch (ServalException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    CompletableFuture<InferenceResult> answer;
    try {
      answer = run(request, executor);
    } catch (RuntimeException e) {
      version.exit();
      throw e;
    }
    answer.whenComplete((result, error) -> version.exit());
    return answer;
  }

  private CompletableFuture<InferenceResult> run(InferenceRequest request, Executor executor) {
    long started = System.nanoTime();
    ModelMetrics metrics = version.metrics();
    metrics.started();
    try {
      checkElementCount(request);
      int batch = InputValidator.validate(label(), signature(), maxBatchSize(), request.inputs());
      List<RequestedOutput> outputs = request.outputsOf(label(), signature());
      QueueOptions options = queueOptions(request);
      ResponseCache.Key key = null;
      if (version.config().responseCache()) {
        long lookup = System.nanoTime();
        key = cache.key(name(), version(), version.generation(), request.inputs(), outputs);
        List<Tensor> hit = cache.get(key);
        long now = System.nanoTime();
        if (hit != null) {
          metrics.cacheHit(batch, now - lookup, now - started);
          InferenceResult cached =
              new InferenceResult(name(), version(), request.id(), hit, outputs, RequestTimings.NONE);
          return CompletableFuture.supplyAsync(() -> cached, executor);
        }
        metrics.cacheMiss(now - lookup);
      }
      List<String> names = new ArrayList<>(outputs.size());
      outputs.forEach(output -> names.add(output.name()));
      ResponseCache.Key cacheKey = key;
      CompletableFuture<Execution> queued =
          version.pool().submit(request.inputs(), names, batch, options, request.memory());
      // Recorded once: by the stage that finishes, or as a cancellation if the caller gave up first.
      AtomicBoolean recorded = new AtomicBoolean();
      CompletableFuture<InferenceResult> finished = queued.handleAsync((execution, error) -> {
        if (error != null) {
          ServalException failure = ServalException.of(error);
          if (recorded.compareAndSet(false, true)) {
            metrics.failure(failure.kind(), System.nanoTime() - started);
          }
          throw failure;
        }
        InferenceResult result = finish(request, outputs, execution, cacheKey);
        if (recorded.compareAndSet(false, true)) {
          metrics.success(batch, result.timings(), System.nanoTime() - started);
        }
        return result;
      }, executor);
      // The caller's future: cancelling it takes the job out of the queue.
      CompletableFuture<InferenceResult> answer = new CompletableFuture<>();
      finished.whenComplete((result, error) -> {
        if (error != null) {
          answer.completeExceptionally(ServalException.of(error));
        } else {
          answer.complete(result);
        }
      });
      answer.whenComplete((result, error) -> {
        if (error instanceof CancellationException) {
          queued.cancel(false);
          if (recorded.compareAndSet(false, true)) {
            metrics.failure(ErrorKind.CANCELLED, System.nanoTime() - started);
          }
        }
      });
      return answer;
    } catch (ServalException e) {
      metrics.failure(e.kind(), System.nanoTime() - started);
      return CompletableFuture.failedFuture(e);
    }
  }

  private InferenceResult finish(InferenceRequest request, List<RequestedOutput> outputs, Execution execution,
      ResponseCache.@Nullable Key cacheKey) {
    long outputStarted = System.nanoTime();
    boolean batched = maxBatchSize() > 0;
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
    return new InferenceResult(name(), version(), request.id(), tensors, outputs, timings);
  }

  private QueueOptions queueOptions(InferenceRequest request) {
    int priority = (int) nonNegative(request, "priority", 0, Integer.MAX_VALUE);
    long timeout = nonNegative(request, "timeout", -1, Long.MAX_VALUE / 1000);
    return QueueOptions.of(priority, timeout, request.deadlineNanos());
  }

  private long nonNegative(InferenceRequest request, String name, long absent, long max) {
    Object value = request.parameters().get(name);
    if (value == null) {
      return absent;
    }
    if (!(value instanceof Long) || (Long) value < 0 || (Long) value > max) {
      throw new InvalidInputException(label() + ": parameter '" + name + "' is " + value
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
}
