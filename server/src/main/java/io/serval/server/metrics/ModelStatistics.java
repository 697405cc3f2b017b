package io.serval.server.metrics;

import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** The running totals of one model version, as the v2 statistics extension reports them. */
public final class ModelStatistics {
  private final Duration success = new Duration();
  private final Duration fail = new Duration();
  private final Duration queue = new Duration();
  private final Duration computeInput = new Duration();
  private final Duration computeInfer = new Duration();
  private final Duration computeOutput = new Duration();
  private final Duration cacheHit = new Duration();
  private final Duration cacheMiss = new Duration();
  private final ConcurrentHashMap<Integer, BatchStatistics> batches = new ConcurrentHashMap<>();
  private final LongAdder inferenceCount = new LongAdder();
  private final LongAdder executionCount = new LongAdder();
  private final AtomicLong lastInferenceMillis = new AtomicLong();
  private final AtomicInteger pending = new AtomicInteger();

  void recordSuccess(int batchSize, RequestTimings timings, long totalNanos) {
    success.add(totalNanos);
    queue.add(timings.queueNanos());
    computeInput.add(timings.computeInputNanos());
    computeInfer.add(timings.computeInferNanos());
    computeOutput.add(timings.computeOutputNanos());
    inferenceCount.add(batchSize);
    lastInferenceMillis.set(System.currentTimeMillis());
  }

  void recordCacheHit(int batchSize, long lookupNanos, long totalNanos) {
    cacheHit.add(lookupNanos);
    success.add(totalNanos);
    inferenceCount.add(batchSize);
    lastInferenceMillis.set(System.currentTimeMillis());
  }

  void recordCacheMiss(long lookupNanos) {
    cacheMiss.add(lookupNanos);
  }

  void recordExecution(int batchSize, long inputNanos, long inferNanos, long outputNanos) {
    executionCount.increment();
    batches.computeIfAbsent(batchSize, size -> new BatchStatistics()).add(inputNanos, inferNanos, outputNanos);
  }

  void recordFailure(long totalNanos) {
    fail.add(totalNanos);
  }

  AtomicInteger pendingCounter() {
    return pending;
  }

  public Duration success() {
    return success;
  }

  public Duration fail() {
    return fail;
  }

  public Duration queue() {
    return queue;
  }

  public Duration computeInput() {
    return computeInput;
  }

  public Duration computeInfer() {
    return computeInfer;
  }

  public Duration computeOutput() {
    return computeOutput;
  }

  public Duration cacheHit() {
    return cacheHit;
  }

  public Duration cacheMiss() {
    return cacheMiss;
  }

  /** Executions by batch size (the rows of all requests run together), smallest first. */
  public SortedMap<Integer, BatchStatistics> batches() {
    return new TreeMap<>(batches);
  }

  /** Inferences answered, counting each row of a batch. */
  public long inferenceCount() {
    return inferenceCount.sum();
  }

  /** Engine executions; several requests batched together count once. */
  public long executionCount() {
    return executionCount.sum();
  }

  /** When the last successful inference finished, in milliseconds since the epoch; 0 if none has. */
  public long lastInferenceMillis() {
    return lastInferenceMillis.get();
  }

  /** Requests accepted and not yet answered. */
  public int pending() {
    return pending.get();
  }
}
