package io.serval.server.scheduling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.serval.core.DataType;
import io.serval.core.DeadlineExceededException;
import io.serval.core.InternalException;
import io.serval.core.ManualClock;
import io.serval.core.MemoryScope;
import io.serval.core.ModelSignature;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import io.serval.server.config.BatchingConfig;
import io.serval.server.metrics.ModelMetrics;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Queue timeouts and {@code max_run_time} on a {@link ManualClock}: each fires exactly when the clock passes it,
 * with no waiting in the test and no dependence on how fast the machine is.
 */
class InstancePoolClockTest {
  private final ManualClock clock = new ManualClock();
  private final HeldInstance instance = new HeldInstance();
  private InstancePool pool;

  @AfterEach
  void close() {
    instance.release.countDown();
    pool.close(1_000);
  }

  @Test
  void aQueuedRequestTimesOutWhenTheClockPassesItsTimeoutNotBefore() throws Exception {
    pool = InstancePool.start("m v1", List.of(instance), BatchingConfig.NONE, 0, Duration.ZERO,
        new ModelMetrics(new SimpleMeterRegistry(), "m", "1"), clock);
    CompletableFuture<Execution> running = submit(QueueOptions.DEFAULT);
    assertThat(instance.running.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Execution> waiting = submit(QueueOptions.of(0, 1000, 0));

    clock.advance(TimeUnit.MICROSECONDS.toNanos(999));
    assertThat(waiting).isNotDone();
    clock.advance(TimeUnit.MICROSECONDS.toNanos(1));

    assertThat(waiting).isCompletedExceptionally();
    assertThat(cause(waiting)).isInstanceOf(DeadlineExceededException.class)
        .hasMessage("m v1: the request waited 1000 us in the queue, past its timeout, and was not run");
    instance.release.countDown();
    assertThat(running.get(10, TimeUnit.SECONDS).outputs()).hasSize(1);
  }

  @Test
  void aRunIsStoppedWhenTheClockPassesMaxRunTime() throws Exception {
    pool = InstancePool.start("m v1", List.of(instance), BatchingConfig.NONE, 0, Duration.ofMillis(50),
        new ModelMetrics(new SimpleMeterRegistry(), "m", "1"), clock);
    CompletableFuture<Execution> running = submit(QueueOptions.DEFAULT);
    assertThat(instance.running.tryAcquire(10, TimeUnit.SECONDS)).isTrue();

    clock.advance(TimeUnit.MILLISECONDS.toNanos(49));
    assertThat(running).isNotDone();
    clock.advance(TimeUnit.MILLISECONDS.toNanos(1));

    assertThat(cause(running)).isInstanceOf(DeadlineExceededException.class)
        .hasMessage("m v1: the run took longer than max_run_time (50 ms) and was stopped");
    await().atMost(Duration.ofSeconds(10)).until(() -> instance.aborted);
  }

  @Test
  void aRunStartedBetweenWatchdogChecksIsStoppedAtItsOwnMaxRunTime() throws Exception {
    pool = InstancePool.start("m v1", List.of(instance), BatchingConfig.NONE, 0, Duration.ofMillis(50),
        new ModelMetrics(new SimpleMeterRegistry(), "m", "1"), clock);
    clock.advance(TimeUnit.MILLISECONDS.toNanos(30));
    CompletableFuture<Execution> running = submit(QueueOptions.DEFAULT);
    assertThat(instance.running.tryAcquire(10, TimeUnit.SECONDS)).isTrue();

    // The pool's first check (50 ms after its start) finds the run 20 ms old, and checks again when it turns 50.
    clock.advance(TimeUnit.MILLISECONDS.toNanos(20));
    clock.advance(TimeUnit.MILLISECONDS.toNanos(29));
    assertThat(running).isNotDone();
    clock.advance(TimeUnit.MILLISECONDS.toNanos(1));

    assertThat(cause(running)).isInstanceOf(DeadlineExceededException.class)
        .hasMessage("m v1: the run took longer than max_run_time (50 ms) and was stopped");
  }

  private CompletableFuture<Execution> submit(QueueOptions options) {
    MemoryScope memory = MemoryScope.open();
    CompletableFuture<Execution> future = pool.submit(
        List.of(Tensor.ofFloats("x", new long[] {4}, new float[4])), List.of("y"), 1, options, memory);
    memory.release();
    return future;
  }

  private static Throwable cause(CompletableFuture<?> future) {
    try {
      future.get(10, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Runs until the test releases it or the pool aborts it, copying its input to its output. */
  private static final class HeldInstance implements ModelInstance {
    final Semaphore running = new Semaphore(0);
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean aborted;

    @Override
    public ModelSignature signature() {
      return ModelSignature.of(List.of(TensorSpec.of("x", DataType.FP32, 4)), List.of(TensorSpec.of("y", DataType.FP32, 4)));
    }

    @Override
    public RunResult run(List<Tensor> inputs, List<String> outputNames, RunContext context) {
      context.onAbort(() -> {
        aborted = true;
        release.countDown();
      });
      running.release();
      try {
        release.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (aborted) {
        throw new InternalException("aborted");
      }
      Tensor x = inputs.get(0);
      return RunResult.of(List.of(Tensor.of("y", DataType.FP32, x.shape(),
          context.allocate(x.byteSize()).put(x.data()).flip())), 1, 1, 1);
    }

    @Override
    public void close() {}
  }
}
