package io.serval.server.scheduling;

/**
 * How one request waits: its priority level (1 is the highest; 0 for the model's default), its queue timeout
 * (microseconds; -1 for the model's default, 0 for none), and a deadline from the transport (a gRPC deadline or
 * a timeout header; {@link System#nanoTime()} based, 0 for none), after which it is never run.
 */
public final class QueueOptions {
  /** The model's defaults, no deadline. */
  public static final QueueOptions DEFAULT = new QueueOptions(0, -1, 0);

  private final int priority;
  private final long timeoutMicros;
  private final long deadlineNanos;

  private QueueOptions(int priority, long timeoutMicros, long deadlineNanos) {
    this.priority = priority;
    this.timeoutMicros = timeoutMicros;
    this.deadlineNanos = deadlineNanos;
  }

  public static QueueOptions of(int priority, long timeoutMicros, long deadlineNanos) {
    return new QueueOptions(priority, timeoutMicros, deadlineNanos);
  }

  public int priority() {
    return priority;
  }

  public long timeoutMicros() {
    return timeoutMicros;
  }

  public long deadlineNanos() {
    return deadlineNanos;
  }
}
