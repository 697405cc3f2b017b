package io.serval.server.metrics;

import java.util.concurrent.atomic.LongAdder;

/** A count of events and their summed duration, as the v2 statistics extension reports them. */
public final class Duration {
  private final LongAdder count = new LongAdder();
  private final LongAdder nanos = new LongAdder();

  void add(long durationNanos) {
    count.increment();
    nanos.add(durationNanos);
  }

  public long count() {
    return count.sum();
  }

  public long nanos() {
    return nanos.sum();
  }
}
