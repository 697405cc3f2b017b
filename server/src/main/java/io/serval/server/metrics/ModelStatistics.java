package io.serval.server.metrics;

import io.serval.core.RequestTimings;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The running totals of one model version, as the v2 statistics extension reports them. {@link #reset} starts
 * them over (the server does so when its warm-up ends, so that they count clients' requests only).
 */
public final class ModelStatistics {
  /** Every cumulative total, swapped as a whole by {@link #reset}. */
  private static final class Totals {
    final Duration success = new Duration();
    final Duration fail = new Duration();
    final Duration queue = new Duration();
    final Duration computeInput = new Duration();
    final Duration computeInfer = new Duration();
    final Duration computeOutput = new Duration();
    final Duration cacheHit = new Duration();
    final Duration cacheMiss = new Duration();
    final ConcurrentHashMap<Integer, BatchStatistics> batches = new ConcurrentHashMap<>();
    final LongAdder inferenceCount = new LongAdder();
    final LongAdder executionCount = new LongAdder();
    final AtomicLong lastInferenceMillis = new AtomicLong();
  }

  private volatile Totals totals = new Totals();
  private final AtomicInteger pending = new AtomicInteger();

  void recordSuccess(int batchSize, RequestTimings timings, long totalNanos) {
    Totals t = totals;
    synchronized (t) {
      t.success.add(totalNanos);
      t.queue.add(timings.queueNanos());
      t.computeInput.add(timings.computeInputNanos());
      t.computeInfer.add(timings.computeInferNanos());
      t.computeOutput.add(timings.computeOutputNanos());
      t.inferenceCount.add(batchSize);
      t.lastInferenceMillis.set(System.currentTimeMillis());
    }
  }

  void recordCacheHit(int batchSize, long lookupNanos, long totalNanos) {
    Totals t = totals;
    synchronized (t) {
      t.cacheHit.add(lookupNanos);
      t.success.add(totalNanos);
      t.inferenceCount.add(batchSize);
      t.lastInferenceMillis.set(System.currentTimeMillis());
    }
  }

  void recordCacheMiss(long lookupNanos) {
    totals.cacheMiss.add(lookupNanos);
  }

  void recordExecution(int batchSize, long inputNanos, long inferNanos, long outputNanos) {
    Totals t = totals;
    synchronized (t) {
      t.executionCount.increment();
      t.batches.computeIfAbsent(batchSize, size -> new BatchStatistics()).add(inputNanos, inferNanos, outputNanos);
    }
  }

  void recordFailure(long totalNanos) {
    totals.fail.add(totalNanos);
  }

  /**
   * What {@code reader} reads of these totals while no request's figures are half recorded, so that counts recorded
   * together agree (perf_analyzer refuses statistics whose success, queue and compute counts differ).
   */
  public <T> T consistent(Supplier<T> reader) {
    Totals t = totals;
    synchronized (t) {
      return reader.get();
    }
  }

  /** Starts every total over; requests in flight stay pending. */
  public void reset() {
    totals = new Totals();
  }

  AtomicInteger pendingCounter() {
    return pending;
  }

  public Duration success() {
    return totals.success;
  }

  public Duration fail() {
    return totals.fail;
  }

  public Duration queue() {
    return totals.queue;
  }

  public Duration computeInput() {
    return totals.computeInput;
  }

  public Duration computeInfer() {
    return totals.computeInfer;
  }

  public Duration computeOutput() {
    return totals.computeOutput;
  }

  public Duration cacheHit() {
    return totals.cacheHit;
  }

  public Duration cacheMiss() {
    return totals.cacheMiss;
  }

  /** Executions by batch size (the rows of all requests run together), smallest first. */
  public SortedMap<Integer, BatchStatistics> batches() {
    return new TreeMap<>(totals.batches);
  }

  /** Inferences answered, counting each row of a batch. */
  public long inferenceCount() {
    return totals.inferenceCount.sum();
  }

  /** Engine executions; several requests batched together count once. */
  public long executionCount() {
    return totals.executionCount.sum();
  }

  /** When the last successful inference finished, in milliseconds since the epoch; 0 if none has. */
  public long lastInferenceMillis() {
    return totals.lastInferenceMillis.get();
  }

  /** Requests accepted and not yet answered. */
  public int pending() {
    return pending.get();
  }
}
