package io.serval.server.scheduling;

import io.serval.engine.DeadlineExceededException;
import io.serval.engine.EngineException;
import io.serval.engine.InvalidInputException;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelUnavailableException;
import io.serval.engine.RunResult;
import io.serval.engine.ServalException;
import io.serval.engine.Tensor;
import io.serval.server.config.BatchingConfig;
import io.serval.server.metrics.ModelMetrics;
import io.serval.server.metrics.RequestTimings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instances of one model version and the {@link RequestQueue} in front of them. Each instance has its own
 * worker thread that takes the next batch, runs it and completes each request's future with exactly its own
 * rows, so native inference never runs on an event loop and an instance never runs two batches at once.
 *
 * <pre>{@code
 * InstancePool pool = InstancePool.start("cls v1", instances, batching, 8, metrics);
 * pool.submit(inputs, List.of("prob"), 1, QueueOptions.DEFAULT).thenAccept(execution -> ...);
 * }</pre>
 */
public final class InstancePool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(InstancePool.class);
  /**
   * Fires queue timeouts and deadlines for every pool; its tasks only move or fail jobs, never run them. A task
   * is dropped as soon as its job completes, so finished requests leave nothing behind.
   */
  private static final ScheduledThreadPoolExecutor TIMER = timer();

  private final String name;
  private final List<ModelInstance> instances;
  private final BatchingConfig batching;
  private final RequestQueue queue;
  private final ModelMetrics metrics;
  private final List<Thread> workers = new ArrayList<>();

  private InstancePool(
      String name, List<ModelInstance> instances, BatchingConfig batching, int maxBatchSize, ModelMetrics metrics) {
    this.name = name;
    this.instances = List.copyOf(instances);
    this.batching = batching;
    this.queue = new RequestQueue(name, batching, maxBatchSize);
    this.metrics = metrics;
  }

  /** Starts one worker per instance. */
  public static InstancePool start(
      String name, List<ModelInstance> instances, BatchingConfig batching, int maxBatchSize, ModelMetrics metrics) {
    if (instances.isEmpty()) {
      throw new IllegalArgumentException(name + ": no instances (expected: at least 1)");
    }
    InstancePool pool = new InstancePool(name, instances, batching, maxBatchSize, metrics);
    for (int i = 0; i < instances.size(); i++) {
      ModelInstance instance = instances.get(i);
      Thread worker = new Thread(() -> pool.work(instance), "serval-" + name.replace(' ', '-') + "-" + i);
      worker.setDaemon(true);
      pool.workers.add(worker);
      worker.start();
    }
    return pool;
  }

  /**
   * Queues a request of {@code rows} batch rows (1 for a model that is not batched). The future completes on a
   * worker thread with the request's own outputs, or with the {@link ServalException} that failed it; cancelling
   * it takes the request out of the queue if it has not started.
   *
   * @throws InvalidInputException for a priority outside the model's levels
   * @throws io.serval.engine.OverloadedException when the queue is full
   */
  public CompletableFuture<Execution> submit(
      List<Tensor> inputs, List<String> outputNames, int rows, QueueOptions options) {
    int levels = batching.priorityLevels();
    if (levels > 0 && (options.priority() < 0 || options.priority() > levels)) {
      throw new InvalidInputException(name + ": priority " + options.priority() + " (expected: 0 for the default, or"
          + " 1 (highest) to " + levels + ")");
    }
    long now = System.nanoTime();
    long timeoutMicros = options.timeoutMicros() >= 0 && batching.allowTimeoutOverride()
        ? options.timeoutMicros()
        : batching.defaultTimeoutMicros();
    long timeoutAt = timeoutMicros > 0 ? now + TimeUnit.MICROSECONDS.toNanos(timeoutMicros) : 0;
    Job job = new Job(inputs, outputNames, rows, queue.laneOf(options.priority()), timeoutAt, options.deadlineNanos());
    queue.offer(job);
    List<ScheduledFuture<?>> timers = new ArrayList<>(2);
    for (long at : new long[] {timeoutAt, options.deadlineNanos()}) {
      if (at != 0) {
        timers.add(TIMER.schedule(() -> queue.timedOut(job), Math.max(0, at - now), TimeUnit.NANOSECONDS));
      }
    }
    job.future.whenComplete((execution, error) -> {
      timers.forEach(timer -> timer.cancel(false));
      if (error instanceof CancellationException) {
        queue.remove(job);
      }
    });
    return job.future;
  }

  private static ScheduledThreadPoolExecutor timer() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
      Thread thread = new Thread(runnable, "serval-queue-timer");
      thread.setDaemon(true);
      return thread;
    });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  private void work(ModelInstance instance) {
    while (true) {
      List<Job> batch;
      try {
        batch = queue.nextBatch();
      } catch (InterruptedException e) {
        return;
      }
      if (batch == null) {
        return;
      }
      run(instance, batch);
    }
  }

  private void run(ModelInstance instance, List<Job> batch) {
    long started = System.nanoTime();
    List<Job> live = new ArrayList<>(batch.size());
    for (Job job : batch) {
      if (job.future.isDone()) {
        continue;
      }
      if (job.deadlineNanos != 0 && started - job.deadlineNanos >= 0) {
        job.future.completeExceptionally(new DeadlineExceededException(name + ": the request's deadline passed"
            + " before an instance was free; it was not run"));
        continue;
      }
      live.add(job);
    }
    if (live.isEmpty()) {
      return;
    }
    try {
      RunResult result;
      List<List<Tensor>> outputs = new ArrayList<>(live.size());
      int rows = 0;
      if (live.size() == 1) {
        Job job = live.get(0);
        result = instance.run(job.inputs, job.outputNames);
        outputs.add(result.outputs());
        rows = job.rows;
      } else {
        int[] jobRows = new int[live.size()];
        for (int i = 0; i < jobRows.length; i++) {
          jobRows[i] = live.get(i).rows;
          rows += jobRows[i];
        }
        List<Tensor> merged = new ArrayList<>();
        for (int input = 0; input < live.get(0).inputs.size(); input++) {
          List<Tensor> parts = new ArrayList<>(live.size());
          for (Job job : live) {
            parts.add(job.inputs.get(input));
          }
          merged.add(Batches.concat(parts));
        }
        result = instance.run(merged, live.get(0).outputNames);
        for (int i = 0; i < live.size(); i++) {
          outputs.add(new ArrayList<>());
        }
        for (Tensor output : result.outputs()) {
          List<Tensor> slices = Batches.split(output, jobRows);
          for (int i = 0; i < slices.size(); i++) {
            outputs.get(i).add(slices.get(i));
          }
        }
      }
      metrics.executed(rows, result.inputNanos(), result.inferNanos(), result.outputNanos());
      for (int i = 0; i < live.size(); i++) {
        Job job = live.get(i);
        job.future.complete(new Execution(outputs.get(i), new RequestTimings(
            started - job.enqueuedNanos, result.inputNanos(), result.inferNanos(), result.outputNanos())));
      }
    } catch (ServalException e) {
      live.forEach(job -> job.future.completeExceptionally(e));
    } catch (RuntimeException | Error e) {
      log.error("{}: the engine failed unexpectedly", name, e);
      EngineException failure = new EngineException(name + ": the engine failed: " + e, e);
      live.forEach(job -> job.future.completeExceptionally(failure));
    }
  }

  /** The number of instances. */
  public int size() {
    return instances.size();
  }

  /** Requests waiting for an instance. */
  public int queued() {
    return queue.size();
  }

  /**
   * Stops taking requests, lets the queued ones finish for up to {@code timeoutMillis}, then stops the workers
   * and closes the instances.
   */
  public void close(long timeoutMillis) {
    queue.close();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    try {
      for (Thread worker : workers) {
        worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
      // Past the drain time: workers finish the batch they run and see the interrupt in the queue.
      workers.forEach(Thread::interrupt);
      for (Thread worker : workers) {
        worker.join(TimeUnit.SECONDS.toMillis(10));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Job left;
    while ((left = queue.pollAny()) != null) {
      left.future.completeExceptionally(new ModelUnavailableException(name + " was unloaded before the request ran"));
    }
    if (workers.stream().anyMatch(Thread::isAlive)) {
      log.warn("{}: a run did not finish in time; its native session is left open", name);
      return;
    }
    for (ModelInstance instance : instances) {
      try {
        instance.close();
      } catch (RuntimeException e) {
        log.warn("{}: closing {} failed", name, instance, e);
      }
    }
  }

  @Override
  public void close() {
    close(0);
  }
}
