package io.serval.server.scheduling;

import io.serval.engine.EngineException;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelUnavailableException;
import io.serval.engine.RunResult;
import io.serval.engine.ServalException;
import io.serval.engine.Tensor;
import io.serval.server.metrics.RequestTimings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instances of one model version and the queue in front of them. Each instance has its own worker thread
 * that takes the next request, runs it and completes its future, so native inference never runs on an event
 * loop and an instance never runs two requests at once.
 *
 * <pre>{@code
 * InstancePool pool = InstancePool.start("cls v1", instances);
 * pool.submit(inputs, List.of("prob")).thenAccept(execution -> ...);
 * }</pre>
 */
public final class InstancePool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(InstancePool.class);

  private final String name;
  private final List<ModelInstance> instances;
  private final BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
  private final List<Thread> workers = new ArrayList<>();
  private volatile boolean accepting = true;

  private InstancePool(String name, List<ModelInstance> instances) {
    this.name = name;
    this.instances = List.copyOf(instances);
  }

  /** Starts one worker per instance. */
  public static InstancePool start(String name, List<ModelInstance> instances) {
    if (instances.isEmpty()) {
      throw new IllegalArgumentException(name + ": no instances (expected: at least 1)");
    }
    InstancePool pool = new InstancePool(name, instances);
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
   * Queues a request; the future completes on the worker thread with the outputs, or with the {@link
   * ServalException} that failed it. A cancelled future is dropped before it runs.
   */
  public CompletableFuture<Execution> submit(List<Tensor> inputs, List<String> outputNames) {
    Job job = new Job(inputs, outputNames);
    if (!accepting) {
      job.future.completeExceptionally(new ModelUnavailableException(name + " is shutting down"));
      return job.future;
    }
    queue.add(job);
    return job.future;
  }

  private void work(ModelInstance instance) {
    while (true) {
      Job job;
      try {
        job = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (job.future.isDone()) {
        continue;
      }
      long started = System.nanoTime();
      try {
        RunResult run = instance.run(job.inputs, job.outputNames);
        job.future.complete(new Execution(run.outputs(), new RequestTimings(
            started - job.enqueuedNanos, run.inputNanos(), run.inferNanos(), run.outputNanos())));
      } catch (ServalException e) {
        job.future.completeExceptionally(e);
      } catch (RuntimeException | Error e) {
        log.error("{}: the engine failed unexpectedly", name, e);
        job.future.completeExceptionally(new EngineException(name + ": the engine failed: " + e, e));
      }
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
    accepting = false;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    try {
      while (!queue.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      Job left;
      while ((left = queue.poll()) != null) {
        left.future.completeExceptionally(
            new ModelUnavailableException(name + " was unloaded before the request ran"));
      }
      // A worker in the middle of a run finishes it and then sees the interrupt in take().
      workers.forEach(Thread::interrupt);
      for (Thread worker : workers) {
        worker.join(TimeUnit.SECONDS.toMillis(10));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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

  private static final class Job {
    final List<Tensor> inputs;
    final List<String> outputNames;
    final CompletableFuture<Execution> future = new CompletableFuture<>();
    final long enqueuedNanos = System.nanoTime();

    Job(List<Tensor> inputs, List<String> outputNames) {
      this.inputs = inputs;
      this.outputNames = outputNames;
    }
  }
}
