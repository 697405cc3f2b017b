package io.serval.dag;

import io.serval.core.ErrorKind;
import org.jspecify.annotations.Nullable;

/**
 * Hears how each node of each request went, for per-node metrics. Called on the thread that finished the node,
 * so it must be quick and must not throw.
 */
@FunctionalInterface
public interface NodeObserver {
  /** Hears nothing. */
  NodeObserver NONE = (node, nanos, failure) -> { };

  /**
   * Node {@code node} finished after {@code nanos}: successfully ({@code failure} null) or with a failure of that
   * kind ({@link ErrorKind#CANCELLED} for a node stopped because the request was answered without it).
   */
  void finished(String node, long nanos, @Nullable ErrorKind failure);
}
