package io.serval.server.config;

import java.util.Arrays;
import java.util.Set;

/**
 * A model's {@code dynamic_batching} block, with Triton's field names: requests are merged along the batch
 * dimension up to {@code max_batch_size}, preferring {@code preferred_batch_sizes}, waiting at most {@code
 * max_queue_delay_microseconds} for more; priority levels and the queue policy bound the queue.
 *
 * <pre>
 * dynamic_batching:
 *   preferred_batch_sizes: [4, 8]
 *   max_queue_delay_microseconds: 2000
 *   priority_levels: 2             # 1 is the highest; 0 turns priorities off
 *   default_priority_level: 2
 *   default_queue_policy:
 *     max_queue_size: 64           # default 1024; 0: bounded only by the server's in-flight budget
 *     default_timeout_microseconds: 0
 *     timeout_action: REJECT       # or DELAY
 *     allow_timeout_override: true
 * </pre>
 */
public final class BatchingConfig {
  /** What happens to a request that waits longer than its queue timeout. */
  public enum TimeoutAction {
    /** It is answered DEADLINE_EXCEEDED (HTTP 504) and never runs. */
    REJECT,
    /** It stays queued, behind every request of every priority. */
    DELAY
  }

  static final Set<String> FIELDS = Set.of(
      "preferred_batch_sizes", "max_queue_delay_microseconds", "priority_levels", "default_priority_level",
      "default_queue_policy");
  static final Set<String> QUEUE_FIELDS = Set.of(
      "max_queue_size", "default_timeout_microseconds", "timeout_action", "allow_timeout_override");

  /** No batching across requests, one priority, an unbounded queue: what a model without the block gets. */
  /**
   * The queue bound of a model that sets none: one model cannot take the whole server-wide in-flight budget
   * ({@code limits.max_inflight_requests}) by default.
   */
  public static final int DEFAULT_MAX_QUEUE_SIZE = 1024;

  /** No dynamic batching: each request runs alone; the default queue bound applies. */
  public static final BatchingConfig NONE =
      new BatchingConfig(false, new int[0], 0, 0, 0, DEFAULT_MAX_QUEUE_SIZE, 0, TimeoutAction.REJECT, true);

  private final boolean enabled;
  private final int[] preferredBatchSizes;
  private final long maxQueueDelayMicros;
  private final int priorityLevels;
  private final int defaultPriorityLevel;
  private final int maxQueueSize;
  private final long defaultTimeoutMicros;
  private final TimeoutAction timeoutAction;
  private final boolean allowTimeoutOverride;

  private BatchingConfig(boolean enabled, int[] preferredBatchSizes, long maxQueueDelayMicros, int priorityLevels,
      int defaultPriorityLevel, int maxQueueSize, long defaultTimeoutMicros, TimeoutAction timeoutAction,
      boolean allowTimeoutOverride) {
    this.enabled = enabled;
    this.preferredBatchSizes = preferredBatchSizes;
    this.maxQueueDelayMicros = maxQueueDelayMicros;
    this.priorityLevels = priorityLevels;
    this.defaultPriorityLevel = defaultPriorityLevel;
    this.maxQueueSize = maxQueueSize;
    this.defaultTimeoutMicros = defaultTimeoutMicros;
    this.timeoutAction = timeoutAction;
    this.allowTimeoutOverride = allowTimeoutOverride;
  }

  static BatchingConfig read(ConfigReader root, int maxBatchSize) {
    if (!root.has("dynamic_batching")) {
      return NONE;
    }
    ConfigReader block = root.child("dynamic_batching");
    block.rejectUnknownFields(FIELDS);
    long[] preferred = block.integers("preferred_batch_sizes", 1);
    int[] sizes = preferred == null ? new int[0] : Arrays.stream(preferred).mapToInt(v -> (int) v).sorted().toArray();
    for (int size : sizes) {
      if (maxBatchSize >= 0 && size > maxBatchSize) {
        block.error("preferred_batch_sizes", size + " is larger than max_batch_size " + maxBatchSize
            + " (expected: 1 to " + maxBatchSize + ")");
      }
    }
    long delay = block.integer("max_queue_delay_microseconds", 0, 0, 60_000_000);
    int levels = (int) block.integer("priority_levels", 0, 0, 1000);
    int defaultLevel = (int) block.integer("default_priority_level", levels == 0 ? 0 : levels, 0, 1000);
    if (levels > 0 && (defaultLevel < 1 || defaultLevel > levels)) {
      block.error("default_priority_level", defaultLevel + " (expected: 1 to " + levels + ", the priority_levels)");
    }
    ConfigReader queue = block.child("default_queue_policy");
    queue.rejectUnknownFields(QUEUE_FIELDS);
    int maxQueue = (int) queue.integer("max_queue_size", DEFAULT_MAX_QUEUE_SIZE, 0, Integer.MAX_VALUE);
    long timeout = queue.integer("default_timeout_microseconds", 0, 0, Long.MAX_VALUE / 1000);
    String action = queue.string("timeout_action", "REJECT");
    TimeoutAction timeoutAction = TimeoutAction.REJECT;
    if ("DELAY".equals(action)) {
      timeoutAction = TimeoutAction.DELAY;
    } else if (!"REJECT".equals(action)) {
      queue.error("timeout_action", "'" + action + "' (expected: REJECT or DELAY)");
    }
    boolean override = queue.bool("allow_timeout_override", true);
    return new BatchingConfig(true, sizes, delay, levels, defaultLevel, maxQueue, timeout, timeoutAction, override);
  }

  /** Whether requests are merged into batches at all. */
  public boolean enabled() {
    return enabled;
  }

  /** The batch sizes to prefer, ascending; empty: as large as {@code max_batch_size} allows. */
  public int[] preferredBatchSizes() {
    return preferredBatchSizes.clone();
  }

  /** How long the oldest queued request may wait for others to join its batch. */
  public long maxQueueDelayMicros() {
    return maxQueueDelayMicros;
  }

  /** The number of priority levels, 1 the highest; 0 when all requests are equal. */
  public int priorityLevels() {
    return priorityLevels;
  }

  /** The level of a request that names none. */
  public int defaultPriorityLevel() {
    return defaultPriorityLevel;
  }

  /** How many requests may wait; 0 for no bound. */
  public int maxQueueSize() {
    return maxQueueSize;
  }

  /** How long a request may wait in the queue, in microseconds; 0 for no limit. */
  public long defaultTimeoutMicros() {
    return defaultTimeoutMicros;
  }

  public TimeoutAction timeoutAction() {
    return timeoutAction;
  }

  /** Whether a request's {@code timeout} parameter replaces the default timeout. */
  public boolean allowTimeoutOverride() {
    return allowTimeoutOverride;
  }
}
