package io.serval.core;

import java.util.ArrayList;
import java.util.List;

/** A {@link SchedulingClock} that moves only when a test {@linkplain #advance advances} it. */
public final class ManualClock implements SchedulingClock {
  private long now = 1_000_000_000L;
  private final List<Task> tasks = new ArrayList<>();

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized Runnable schedule(Runnable task, long delayNanos) {
    Task scheduled = new Task(now + Math.max(0, delayNanos), task);
    tasks.add(scheduled);
    return () -> {
      synchronized (this) {
        tasks.remove(scheduled);
      }
    };
  }

  /** Moves time on by {@code nanos} and runs, on the calling thread, every task that has come due. */
  public void advance(long nanos) {
    List<Task> due = new ArrayList<>();
    synchronized (this) {
      now += nanos;
      tasks.removeIf(task -> {
        if (task.at - now <= 0) {
          due.add(task);
          return true;
        }
        return false;
      });
    }
    due.forEach(task -> task.run.run());
  }

  private static final class Task {
    final long at;
    final Runnable run;

    Task(long at, Runnable run) {
      this.at = at;
      this.run = run;
    }
  }
}
