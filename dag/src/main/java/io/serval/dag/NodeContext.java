package io.serval.dag;

import io.serval.core.MemoryScope;
import java.util.concurrent.Executor;

/** What a node's operator gets beside its inputs for one request. */
public final class NodeContext {
  private final String node;
  private final MemoryScope memory;
  private final Executor executor;
  private final long deadlineNanos;

  NodeContext(String node, MemoryScope memory, Executor executor, long deadlineNanos) {
    this.node = node;
    this.memory = memory;
    this.executor = executor;
    this.deadlineNanos = deadlineNanos;
  }

  /** The node's name, for messages. */
  public String node() {
    return node;
  }

  /** The request's memory: outputs are allocated here, and freed with the request. */
  public MemoryScope memory() {
    return memory;
  }

  /** The pipeline's executor, where follow-up work runs. */
  public Executor executor() {
    return executor;
  }

  /** The request's deadline as a {@link System#nanoTime()} value; 0 for none. */
  public long deadlineNanos() {
    return deadlineNanos;
  }
}
