package io.serval.server.scheduling;

import io.serval.core.DeadlineExceededException;
import io.serval.core.ModelUnavailableException;
import io.serval.core.OverloadedException;
import io.serval.core.SchedulingClock;
import io.serval.server.config.BatchingConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The queue in front of a model version's instances: one FIFO lane per priority level, a bound on its size, and
 * the batch former the instance workers take from. A worker takes the oldest request of the highest priority and
 * every queued request that can join it (same batch key) while the batch fits {@code max_batch_size}; unless the
 * batch is full or has reached the largest preferred size, it waits up to {@code max_queue_delay} from the oldest
 * request's arrival for more.
 */
final class RequestQueue {
  private final String name;
  private final SchedulingClock clock;
  private final BatchingConfig policy;
  private final int maxBatchSize;
  private final long maxDelayNanos;
  private final int targetRows;
  private final List<ArrayDeque<Job>> lanes;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private int size;
  private boolean closed;

  RequestQueue(String name, BatchingConfig policy, int maxBatchSize, SchedulingClock clock) {
    this.name = name;
    this.clock = clock;
    this.policy = policy;
    this.maxBatchSize = policy.enabled() ? maxBatchSize : 0;
    this.maxDelayNanos = TimeUnit.MICROSECONDS.toNanos(policy.maxQueueDelayMicros());
    int[] preferred = policy.preferredBatchSizes();
    this.targetRows = preferred.length == 0 ? maxBatchSize : preferred[preferred.length - 1];
    this.lanes = new ArrayList<>();
    for (int i = 0; i < Math.max(1, policy.priorityLevels()); i++) {
      lanes.add(new ArrayDeque<>());
    }
  }

  /** The lane of a priority level (1 the highest, 0 the default). */
  int laneOf(int priority) {
    if (policy.priorityLevels() == 0) {
      return 0;
    }
    return (priority == 0 ? policy.defaultPriorityLevel() : priority) - 1;
  }

  /**
   * Queues a job.
   *
   * @throws OverloadedException when the queue holds {@code max_queue_size} requests already
   */
  void offer(Job job) {
    lock.lock();
    try {
      if (closed) {
        throw new ModelUnavailableException(name + " is unloading");
      }
      if (policy.maxQueueSize() > 0 && size >= policy.maxQueueSize()) {
        throw new OverloadedException(name + ": the queue is full (" + size + " requests waiting, max_queue_size "
            + policy.maxQueueSize() + "); retry later");
      }
      lanes.get(job.lane).addLast(job);
      size++;
      // One more job is work for at most one more worker.
      changed.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Takes a job out of the queue if it is still there; returns whether it was. */
  boolean remove(Job job) {
    lock.lock();
    try {
      if (job.dequeued) {
        return false;
      }
      lanes.get(job.lane).remove(job);
      job.dequeued = true;
      size--;
      changed.signalAll();
      // Never taken by a worker: nothing reads its inputs any more.
      job.releaseMemory();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Called when a job's queue timeout passes: with REJECT (or past its transport deadline) it fails and never
   * runs; with DELAY it moves behind every queued request.
   */
  void timedOut(Job job) {
    lock.lock();
    try {
      if (job.dequeued) {
        return;
      }
      boolean pastDeadline = job.deadlineNanos != 0 && clock.nanoTime() - job.deadlineNanos >= 0;
      if (policy.timeoutAction() == BatchingConfig.TimeoutAction.DELAY && !pastDeadline) {
        lanes.get(job.lane).remove(job);
        job.lane = lanes.size() - 1;
        lanes.get(job.lane).addLast(job);
        return;
      }
      remove(job);
    } finally {
      lock.unlock();
    }
    job.future.completeExceptionally(new DeadlineExceededException(name + ": the request waited "
        + TimeUnit.NANOSECONDS.toMicros(clock.nanoTime() - job.enqueuedNanos)
        + " us in the queue, past its timeout, and was not run"));
  }

  /**
   * The next batch to run, waiting as the batching policy says; {@code null} once the queue is closed and
   * empty.
   */
  @Nullable List<Job> nextBatch() throws InterruptedException {
    lock.lock();
    try {
      while (true) {
        Job first = oldestOfHighestPriority();
        if (first == null) {
          if (closed) {
            return null;
          }
          changed.await();
          continue;
        }
        if (maxBatchSize == 0) {
          take(first);
          passOn();
          return List.of(first);
        }
        List<Job> batch = gather(first);
        int rows = batch.stream().mapToInt(job -> job.rows).sum();
        long waited = clock.nanoTime() - first.enqueuedNanos;
        if (rows >= targetRows || waited >= maxDelayNanos || closed) {
          batch.forEach(this::take);
          passOn();
          return batch;
        }
        changed.awaitNanos(maxDelayNanos - waited);
      }
    } finally {
      lock.unlock();
    }
  }

  /** A worker leaving with a batch wakes another for what is left ({@link #offer} wakes only one). */
  private void passOn() {
    if (size > 0) {
      changed.signal();
    }
  }

  private @Nullable Job oldestOfHighestPriority() {
    for (ArrayDeque<Job> lane : lanes) {
      Job head = lane.peekFirst();
      if (head != null) {
        return head;
      }
    }
    return null;
  }

  private List<Job> gather(Job first) {
    List<Job> batch = new ArrayList<>();
    batch.add(first);
    int rows = first.rows;
    for (ArrayDeque<Job> lane : lanes) {
      for (Job job : lane) {
        if (job != first && job.batchKey.equals(first.batchKey) && rows + job.rows <= maxBatchSize) {
          batch.add(job);
          rows += job.rows;
          if (rows == maxBatchSize) {
            return batch;
          }
        }
      }
    }
    return batch;
  }

  private void take(Job job) {
    lanes.get(job.lane).remove(job);
    job.dequeued = true;
    size--;
  }

  /** Takes any queued job out, for failing what is left at close; its memory is released. */
  @Nullable Job pollAny() {
    lock.lock();
    try {
      Job job = oldestOfHighestPriority();
      if (job != null) {
        take(job);
        job.releaseMemory();
      }
      return job;
    } finally {
      lock.unlock();
    }
  }

  int size() {
    lock.lock();
    try {
      return size;
    } finally {
      lock.unlock();
    }
  }

  /** Stops accepting; workers drain what is queued, then {@link #nextBatch} returns {@code null}. */
  void close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
