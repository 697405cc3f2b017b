package io.serval.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.serval.core.ErrorKind;
import io.serval.core.RequestTimings;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Records the requests of one model version into its {@link ModelStatistics} and into Micrometer, from the
 * same measurements. Serval's own meters follow Prometheus conventions ({@code serval_inference_*}, seconds,
 * histograms); Triton's {@code nv_inference_*} names are published too, for dashboards built for Triton.
 */
public final class ModelMetrics {
  private final MeterRegistry registry;
  private final Tags tags;
  private final ModelStatistics statistics = new ModelStatistics();
  private final Timer request;
  private final Timer queue;
  private final Timer computeInput;
  private final Timer computeInfer;
  private final Timer computeOutput;
  private final Counter successes;
  private final DistributionSummary batchSize;
  private final Counter cacheHits;
  private final Counter cacheMisses;
  private final ConcurrentHashMap<ErrorKind, Counter> failures = new ConcurrentHashMap<>();

  public ModelMetrics(MeterRegistry registry, String model, String version) {
    this.registry = registry;
    this.tags = Tags.of("model", model, "version", version);
    this.request = timer("serval.inference.request", "Time from accepting a request to its response");
    this.queue = timer("serval.inference.queue", "Time a request waits for a model instance");
    this.computeInput = timer("serval.inference.compute.input", "Time preparing the engine call");
    this.computeInfer = timer("serval.inference.compute.infer", "Time inside the engine");
    this.computeOutput = timer("serval.inference.compute.output", "Time turning engine outputs into the response");
    this.successes = requests("success", "none");
    this.batchSize = DistributionSummary.builder("serval.inference.batch.size")
        .description("Rows per engine execution, after dynamic batching")
        .tags(tags)
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128)
        .register(registry);
    this.cacheHits = cacheCounter("hit");
    this.cacheMisses = cacheCounter("miss");
    Gauge.builder("serval.inference.pending", statistics, ModelStatistics::pending)
        .description("Requests accepted and not yet answered")
        .tags(tags)
        .register(registry);
    tritonGauge("nv_inference_request_success", s -> s.success().count());
    tritonGauge("nv_inference_request_failure", s -> s.fail().count());
    tritonGauge("nv_inference_count", ModelStatistics::inferenceCount);
    tritonGauge("nv_inference_exec_count", ModelStatistics::executionCount);
    tritonGauge("nv_inference_pending_request_count", ModelStatistics::pending);
    tritonGauge("nv_inference_request_duration_us", s -> micros(s.success().nanos() + s.fail().nanos()));
    tritonGauge("nv_inference_queue_duration_us", s -> micros(s.queue().nanos()));
    tritonGauge("nv_inference_compute_input_duration_us", s -> micros(s.computeInput().nanos()));
    tritonGauge("nv_inference_compute_infer_duration_us", s -> micros(s.computeInfer().nanos()));
    tritonGauge("nv_inference_compute_output_duration_us", s -> micros(s.computeOutput().nanos()));
    tritonGauge("nv_cache_num_hits_per_model", s -> s.cacheHit().count());
    tritonGauge("nv_cache_num_misses_per_model", s -> s.cacheMiss().count());
  }

  private Timer timer(String name, String description) {
    return Timer.builder(name).description(description).tags(tags).publishPercentileHistogram().register(registry);
  }

  private Counter requests(String outcome, String reason) {
    return Counter.builder("serval.inference.requests")
        .description("Inference requests answered, by outcome and failure reason")
        .tags(tags)
        .tag("outcome", outcome)
        .tag("reason", reason)
        .register(registry);
  }

  private Counter cacheCounter(String result) {
    return Counter.builder("serval.response.cache.requests")
        .description("Response cache lookups, by result")
        .tags(tags)
        .tag("result", result)
        .register(registry);
  }

  private void tritonGauge(String name, ToDoubleFunction<ModelStatistics> value) {
    Gauge.builder(name, statistics, value).description("Triton-compatible: " + name).tags(tags).register(registry);
  }

  private static double micros(long nanos) {
    return nanos / 1_000.0;
  }

  /** The totals the statistics extension reports. */
  public ModelStatistics statistics() {
    return statistics;
  }

  /** Counts a request as accepted; every call is followed by one {@link #success} or {@link #failure}. */
  public void started() {
    statistics.pendingCounter().incrementAndGet();
  }

  public void success(int batchSize, RequestTimings timings, long totalNanos) {
    statistics.pendingCounter().decrementAndGet();
    statistics.recordSuccess(batchSize, timings, totalNanos);
    successes.increment();
    request.record(totalNanos, TimeUnit.NANOSECONDS);
    queue.record(timings.queueNanos(), TimeUnit.NANOSECONDS);
    computeInput.record(timings.computeInputNanos(), TimeUnit.NANOSECONDS);
    computeInfer.record(timings.computeInferNanos(), TimeUnit.NANOSECONDS);
    computeOutput.record(timings.computeOutputNanos(), TimeUnit.NANOSECONDS);
  }

  /** Records one engine execution of {@code rows} batch rows (one or several requests). */
  public void executed(int rows, long inputNanos, long inferNanos, long outputNanos) {
    statistics.recordExecution(rows, inputNanos, inferNanos, outputNanos);
    batchSize.record(rows);
  }

  /** A request answered from the response cache. */
  public void cacheHit(int batchSize, long lookupNanos, long totalNanos) {
    statistics.pendingCounter().decrementAndGet();
    statistics.recordCacheHit(batchSize, lookupNanos, totalNanos);
    cacheHits.increment();
    successes.increment();
    request.record(totalNanos, TimeUnit.NANOSECONDS);
  }

  /** A response cache lookup that found nothing. */
  public void cacheMiss(long lookupNanos) {
    statistics.recordCacheMiss(lookupNanos);
    cacheMisses.increment();
  }

  public void failure(ErrorKind kind, long totalNanos) {
    statistics.pendingCounter().decrementAndGet();
    statistics.recordFailure(totalNanos);
    failures.computeIfAbsent(kind, k -> requests("failure", k.name().toLowerCase(Locale.ROOT))).increment();
    request.record(totalNanos, TimeUnit.NANOSECONDS);
  }

  /** Removes this version's meters, when it is unloaded. */
  public void close() {
    registry.getMeters().stream()
        .filter(meter -> tags.stream().allMatch(tag -> tag.getValue().equals(meter.getId().getTag(tag.getKey()))))
        .forEach(registry::remove);
  }
}
