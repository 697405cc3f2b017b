package io.serval.server.scheduling;

import io.serval.core.DeadlineExceededException;
import io.serval.core.InternalException;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.ModelUnavailableException;
import io.serval.core.RequestTimings;
import io.serval.core.SchedulingClock;
import io.serval.core.ServalException;
import io.serval.core.Tensor;
import io.serval.engine.ModelInstance;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import io.serval.server.config.BatchingConfig;
import io.serval.server.metrics.ModelMetrics;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The instances of one model version and the {@link RequestQueue} in front of them. Each instance has its own
 * worker thread ({@code serval-<model>-<version>-<i>}) that takes the next batch, runs it and completes each
 * request's future with exactly its own rows, so native inference never runs on an event loop and an instance
 * never runs two batches at once. Workers only run and complete: whoever waits on a future continues on its own
 * executor, never on a worker.
 *
 * <p>Memory: a queued job holds a reference to its request's {@link MemoryScope} until a worker is done with it;
 * merged batch inputs live in a scope of their own, freed right after the run; outputs live in the batch's output
 * scope, which every request of the batch holds until its answer is written. A run that outlasts {@code
 * max_run_time} is aborted ({@link RunContext#abort}) and its requests answered DEADLINE_EXCEEDED at once. When a
 * batch of several requests fails, each is run again alone, so one poisonous request fails only itself.
 *
 * <pre>{@code
 * InstancePool pool = InstancePool.start("cls v1", instances, batching, 8, Duration.ofSeconds(60), metrics);
 * pool.submit(inputs, List.of("prob"), 1, QueueOptions.DEFAULT, memory).thenAccept(execution -> ...);
 * }</pre>
 */
public final class InstancePool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(InstancePool.class);
  private final String name;
  private final List<ModelInstance> instances;
  private final BatchingConfig batching;
  private final RequestQueue queue;
  private final ModelMetrics metrics;
  private final long maxRunTimeNanos;
  private final SchedulingClock clock;
  private final List<Thread> workers = new ArrayList<>();
  /** The runs under way: for the watchdog, and to abort at the end of a drain. */
  private final Set<Run> running = ConcurrentHashMap.newKeySet();
  /** Cancels the watchdog's next check; {@code null} without {@code max_run_time}. */
  private volatile @Nullable Runnable watchdog;
  private volatile boolean closed;

  private InstancePool(String name, List<ModelInstance> instances, BatchingConfig batching, int maxBatchSize,
      java.time.Duration maxRunTime, ModelMetrics metrics, SchedulingClock clock) {
    this.name = name;
    this.instances = List.copyOf(instances);
    this.batching = batching;
    this.clock = clock;
    this.queue = new RequestQueue(name, batching, maxBatchSize, clock);
    this.maxRunTimeNanos = maxRunTime.toNanos();
    this.metrics = metrics;
  }

  /**
   * Starts one worker per instance on the system clock. A run longer than {@code maxRunTime} is stopped ({@code
   * Duration.ZERO}: no limit).
   */
  public static InstancePool start(String name, List<ModelInstance> instances, BatchingConfig batching,
      int maxBatchSize, java.time.Duration maxRunTime, ModelMetrics metrics) {
    return start(name, instances, batching, maxBatchSize, maxRunTime, metrics, SchedulingClock.system());
  }

  /** Starts one worker per instance, with timeouts and {@code max_run_time} on {@code clock}. */
  static InstancePool start(String name, List<ModelInstance> instances, BatchingConfig batching,
      int maxBatchSize, java.time.Duration maxRunTime, ModelMetrics metrics, SchedulingClock clock) {
    if (instances.isEmpty()) {
      throw new IllegalArgumentException(name + ": no instances (expected: at least 1)");
    }
    InstancePool pool = new InstancePool(name, instances, batching, maxBatchSize, maxRunTime, metrics, clock);
    for (int i = 0; i < instances.size(); i++) {
      ModelInstance instance = instances.get(i);
      Thread worker = new Thread(() -> pool.work(instance), "serval-" + name.replace(' ', '-') + "-" + i);
      worker.setDaemon(true);
      // Not the priority of the thread that loads the model (loads after start run at the lowest).
      worker.setPriority(Thread.NORM_PRIORITY);
      pool.workers.add(worker);
      worker.start();
    }
    if (pool.maxRunTimeNanos > 0) {
      pool.watchdog = clock.schedule(pool::stopOverdueRuns, pool.maxRunTimeNanos);
    }
    return pool;
  }

  /**
   * Queues a request of {@code rows} batch rows (1 for a model that is not batched) whose inputs live in {@code
   * memory}, which the job holds until no worker reads them any more. The future completes with the request's
   * own outputs (attached to {@code memory}), or with the {@link ServalException} that failed it; cancelling it
   * takes the request out of the queue if it has not started.
   *
   * @throws InvalidInputException for a priority outside the model's levels
   * @throws io.serval.core.OverloadedException when the queue is full
   */
  public CompletableFuture<Execution> submit(
      List<Tensor> inputs, List<String> outputNames, int rows, QueueOptions options, MemoryScope memory) {
    int levels = batching.priorityLevels();
    if (levels > 0 && (options.priority() < 0 || options.priority() > levels)) {
      throw new InvalidInputException(name + ": priority " + options.priority() + " (expected: 0 for the default, or"
          + " 1 (highest) to " + levels + ")");
    }
    long now = clock.nanoTime();
    long timeoutMicros = options.timeoutMicros() >= 0 && batching.allowTimeoutOverride()
        ? options.timeoutMicros()
        : batching.defaultTimeoutMicros();
    long timeoutAt = timeoutMicros > 0 ? now + TimeUnit.MICROSECONDS.toNanos(timeoutMicros) : 0;
    Job job = new Job(inputs, outputNames, rows, queue.laneOf(options.priority()), now, timeoutAt,
        options.deadlineNanos(), memory);
    try {
      queue.offer(job);
    } catch (ServalException e) {
      job.releaseMemory();
      throw e;
    }
    List<Runnable> timers = new ArrayList<>(2);
    for (long at : new long[] {timeoutAt, options.deadlineNanos()}) {
      if (at != 0) {
        timers.add(clock.schedule(() -> queue.timedOut(job), at - now));
      }
    }
    job.future.whenComplete((execution, error) -> {
      timers.forEach(Runnable::run);
      if (error instanceof CancellationException) {
        queue.remove(job);
      }
    });
    return job.future;
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
    try {
      long started = clock.nanoTime();
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
        runBatch(instance, live, started);
      } catch (ServalException e) {
        if (live.size() == 1 || e instanceof DeadlineExceededException) {
          live.forEach(job -> job.future.completeExceptionally(e));
          return;
        }
        // One request may be what broke the batch: run each alone so that only it fails.
        for (Job job : live) {
          try {
            runBatch(instance, List.of(job), clock.nanoTime());
          } catch (ServalException alone) {
            job.future.completeExceptionally(alone);
          }
        }
      }
    } finally {
      batch.forEach(Job::releaseMemory);
    }
  }

  /** Runs {@code live} as one batch and completes each job with its own rows; throws what failed the run. */
  private void runBatch(ModelInstance instance, List<Job> live, long started) {
    MemoryScope outputMemory = MemoryScope.open();
    MemoryScope mergedMemory = live.size() > 1 ? MemoryScope.open() : null;
    RunContext context = RunContext.of(outputMemory);
    Run run = new Run(context, live, started);
    running.add(run);
    try {
      RunResult result;
      List<List<Tensor>> outputs = new ArrayList<>(live.size());
      int rows = 0;
      if (mergedMemory == null) {
        Job job = live.get(0);
        result = instance.run(job.inputs, job.outputNames, context);
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
          merged.add(Batches.concat(parts, mergedMemory));
        }
        result = instance.run(merged, live.get(0).outputNames, context);
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
      if (context.isAborted()) {
        answerAborted(live);
        return;
      }
      metrics.executed(rows, result.inputNanos(), result.inferNanos(), result.outputNanos());
      for (int i = 0; i < live.size(); i++) {
        Job job = live.get(i);
        job.memory().attach(outputMemory);
        job.future.complete(new Execution(outputs.get(i), new RequestTimings(
            started - job.enqueuedNanos, result.inputNanos(), result.inferNanos(), result.outputNanos())));
      }
    } catch (ServalException e) {
      if (!context.isAborted()) {
        throw e;
      }
      answerAborted(live);
    } catch (RuntimeException | Error e) {
      if (!context.isAborted()) {
        throw new InternalException(name + ": the engine failed: " + e, e);
      }
      answerAborted(live);
    } finally {
      running.remove(run);
      if (mergedMemory != null) {
        mergedMemory.release();
      }
      outputMemory.release();
    }
  }

  /**
   * Answers the requests of an aborted run: those the watchdog answered keep its answer; the others were stopped
   * by the end of a drain.
   */
  private void answerAborted(List<Job> live) {
    ModelUnavailableException unloaded =
        new ModelUnavailableException(name + " was unloaded while the request ran; its run was stopped");
    live.forEach(job -> job.future.completeExceptionally(unloaded));
  }

  /**
   * The watchdog: stops every run past {@code max_run_time} and answers its requests at once, then checks again
   * when the oldest run left would pass it (or one {@code max_run_time} from now). One timer per pool rather than
   * one per run keeps the timer thread asleep on the request path.
   */
  private void stopOverdueRuns() {
    long now = clock.nanoTime();
    long next = now + maxRunTimeNanos;
    for (Run run : running) {
      long due = run.startedNanos + maxRunTimeNanos;
      if (due - now > 0) {
        next = due - next < 0 ? due : next;
      } else if (running.remove(run)) {
        DeadlineExceededException timedOut = new DeadlineExceededException(name + ": the run took longer than"
            + " max_run_time (" + TimeUnit.NANOSECONDS.toMillis(maxRunTimeNanos) + " ms) and was stopped");
        run.live.forEach(job -> job.future.completeExceptionally(timedOut));
        run.context.abort();
      }
    }
    if (!closed) {
      watchdog = clock.schedule(this::stopOverdueRuns, next - now);
    }
  }

  /** A run under way (identity-keyed): what aborts it, the requests it answers, and when it started. */
  private static final class Run {
    final RunContext context;
    final List<Job> live;
    final long startedNanos;

    Run(RunContext context, List<Job> live, long startedNanos) {
      this.context = context;
      this.live = live;
      this.startedNanos = startedNanos;
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
   * Stops taking requests and lets the queued ones finish for up to {@code timeoutMillis}; past that, fails what
   * is still queued, aborts the runs under way, and closes the instances. An instance whose run ignores the abort
   * and is still running 10 seconds later is left open (closing a session under a running model would crash the
   * process), and the log says so.
   */
  public void close(long timeoutMillis) {
    queue.close();
    closed = true;
    Runnable stopWatching = watchdog;
    if (stopWatching != null) {
      stopWatching.run();
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    try {
      for (Thread worker : workers) {
        worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
      Job left;
      while ((left = queue.pollAny()) != null) {
        left.future.completeExceptionally(new ModelUnavailableException(name + " was unloaded before the request ran"));
      }
      running.forEach(run -> run.context.abort());
      workers.forEach(Thread::interrupt);
      for (Thread worker : workers) {
        worker.join(TimeUnit.SECONDS.toMillis(10));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (int i = 0; i < instances.size(); i++) {
      ModelInstance instance = instances.get(i);
      if (workers.get(i).isAlive()) {
        log.warn("{}: a run ignored the abort and is still going; its native session is left open", name);
        continue;
      }
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
