package io.serval.core;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The time the scheduler runs on: now, and a way to fire a task later (queue timeouts, transport deadlines, {@code
 * max_run_time}). The server uses {@link #system()}; tests substitute a manual clock and advance it, so timeout
 * logic is proven without waiting. Times are {@link System#nanoTime()}-like: only differences mean anything.
 *
 * <pre>{@code
 * SchedulingClock clock = SchedulingClock.system();
 * Runnable cancel = clock.schedule(() -> queue.timedOut(job), TimeUnit.MILLISECONDS.toNanos(5));
 * }</pre>
 */
public interface SchedulingClock {
  /** Now, in nanoseconds from an arbitrary origin. */
  long nanoTime();

  /**
   * Runs {@code task} once {@code delayNanos} have passed, on a thread of the clock's own that only moves or
   * fails requests, never runs them. Returns what cancels it.
   */
  Runnable schedule(Runnable task, long delayNanos);

  /** The system clock, with one daemon timer thread ({@code serval-queue-timer}) shared by every pool. */
  static SchedulingClock system() {
    return SystemClock.INSTANCE;
  }

  /** {@link System#nanoTime()} and a shared timer thread. */
  final class SystemClock implements SchedulingClock {
    static final SystemClock INSTANCE = new SystemClock();
    private final ScheduledThreadPoolExecutor timer;

    private SystemClock() {
      timer = new ScheduledThreadPoolExecutor(1, runnable -> {
        Thread thread = new Thread(runnable, "serval-queue-timer");
        thread.setDaemon(true);
        return thread;
      });
      // A cancelled task leaves the queue at once, so finished requests leave nothing behind.
      timer.setRemoveOnCancelPolicy(true);
    }

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public Runnable schedule(Runnable task, long delayNanos) {
      ScheduledFuture<?> scheduled = timer.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
      return () -> scheduled.cancel(false);
    }
  }
}
