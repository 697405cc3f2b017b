package io.serval.server.scheduling;

import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** One queued request: its inputs, where it may be batched, and when it must have started. */
final class Job {
  final List<Tensor> inputs;
  final List<String> outputNames;
  final int rows;
  /** Requests merge only when these match: input names, types and every dimension after the batch one. */
  final String batchKey;
  /** When it was queued, on the pool's clock. */
  final long enqueuedNanos;
  /** When the queue timeout passes (0: never). */
  final long timeoutAtNanos;
  /** When the transport deadline passes (0: never); the request is then never run. */
  final long deadlineNanos;
  final CompletableFuture<Execution> future = new CompletableFuture<>();
  /** The request's memory, held (one reference) while the job may still be read by a worker. */
  private final MemoryScope memory;
  private final AtomicBoolean released = new AtomicBoolean();
  /** The lane it waits in, 0 the highest priority. Guarded by the queue's lock. */
  int lane;
  /** Whether it has left the queue, to run or to fail. Guarded by the queue's lock. */
  boolean dequeued;

  Job(List<Tensor> inputs, List<String> outputNames, int rows, int lane, long enqueuedNanos, long timeoutAtNanos,
      long deadlineNanos, MemoryScope memory) {
    this.memory = memory.retain();
    this.enqueuedNanos = enqueuedNanos;
    this.inputs = inputs;
    this.outputNames = outputNames;
    this.rows = rows;
    this.lane = lane;
    this.timeoutAtNanos = timeoutAtNanos;
    this.deadlineNanos = deadlineNanos;
    StringBuilder key = new StringBuilder();
    for (Tensor input : inputs) {
      long[] shape = input.shape();
      key.append(input.name()).append(':').append(input.dataType().wireName())
          .append(Arrays.toString(Arrays.copyOfRange(shape, Math.min(1, shape.length), shape.length))).append(';');
    }
    key.append("->").append(outputNames);
    this.batchKey = key.toString();
  }

  /** The request's memory scope, to attach what the job's outputs live in. */
  MemoryScope memory() {
    return memory;
  }

  /**
   * Drops the job's hold on the request's memory: by the worker after running it, or by whoever took it out of
   * the queue unrun. Only the first call counts.
   */
  void releaseMemory() {
    if (released.compareAndSet(false, true)) {
      memory.release();
    }
  }
}
