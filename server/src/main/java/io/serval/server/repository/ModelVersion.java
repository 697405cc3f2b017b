package io.serval.server.repository;

import io.serval.core.ModelSignature;
import io.serval.server.config.ModelConfig;
import io.serval.server.metrics.ModelMetrics;
import io.serval.server.scheduling.InstancePool;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * One version of one model: ready with its instance pool and metrics, or unavailable with the reason it failed
 * to load.
 *
 * <p>Each load is a new object with its own {@link #generation()}. Requests {@link #enter()} the version before
 * they use its pool and {@link #exit()} when answered; a version replaced or removed is {@link #retire retired}:
 * it takes no new requests (they go to whatever now serves the name), and its pool closes once the requests
 * inside have been answered.
 */
public final class ModelVersion {
  private static final AtomicLong GENERATIONS = new AtomicLong();
  /** Set in {@link #inside} once the version is retired; the low bits count the requests inside. */
  private static final long RETIRED = 1L << 62;
  private final String modelName;
  private final long version;
  private final @Nullable ModelConfig config;
  private final @Nullable InstancePool pool;
  private final @Nullable ModelMetrics metrics;
  private final String reason;
  private final String threading;
  private final String fingerprint;
  private final long generation = GENERATIONS.incrementAndGet();
  private final AtomicLong inside = new AtomicLong();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private volatile ModelState state;

  private ModelVersion(
      String modelName,
      long version,
      @Nullable ModelConfig config,
      @Nullable InstancePool pool,
      @Nullable ModelMetrics metrics,
      ModelState state,
      String reason,
      String threading,
      String fingerprint) {
    this.modelName = modelName;
    this.version = version;
    this.config = config;
    this.pool = pool;
    this.metrics = metrics;
    this.state = state;
    this.reason = reason;
    this.threading = threading;
    this.fingerprint = fingerprint;
  }

  static ModelVersion ready(String modelName, long version, ModelConfig config, InstancePool pool,
      ModelMetrics metrics, String threading, String fingerprint) {
    return new ModelVersion(modelName, version, config, pool, metrics, ModelState.READY, "", threading,
        fingerprint);
  }

  static ModelVersion failed(String modelName, long version, String reason, String fingerprint) {
    return new ModelVersion(modelName, version, null, null, null, ModelState.UNAVAILABLE, reason, "",
        fingerprint);
  }

  public String modelName() {
    return modelName;
  }

  public long version() {
    return version;
  }

  /** The version as the protocol writes it. */
  public String versionString() {
    return Long.toString(version);
  }

  public ModelState state() {
    return state;
  }

  public boolean isReady() {
    return state == ModelState.READY;
  }

  /** Why the version is unavailable; empty when it is ready. */
  public String reason() {
    return reason;
  }

  /** The completed configuration; only for a version that loaded. */
  public ModelConfig config() {
    return require(config);
  }

  /** The signature requests are checked against. */
  public ModelSignature servedSignature() {
    return config().servedSignature();
  }

  public InstancePool pool() {
    return require(pool);
  }

  public ModelMetrics metrics() {
    return require(metrics);
  }

  /** How the version's instances use the CPU budget ("2 instances x 2 intra-op threads in the pool ..."). */
  public String threading() {
    return threading;
  }

  /** A label for messages: {@code model 'cls' version 1}. */
  public String label() {
    return "model '" + modelName + "' version " + version;
  }

  /**
   * Which load this is: every load of any version has a new number, so a version reloaded under the same number
   * is told apart (the response cache keys by it).
   */
  public long generation() {
    return generation;
  }

  /** What the version's files and configuration were when it was loaded; another value means a reload. */
  String fingerprint() {
    return fingerprint;
  }

  /**
   * Lets a request in, unless the version is retired. Every {@code true} must be followed by one {@link #exit()}.
   */
  public boolean enter() {
    long now = inside.incrementAndGet();
    if ((now & RETIRED) != 0) {
      exit();
      return false;
    }
    return true;
  }

  /** A request that {@link #enter() entered} has been answered. */
  public void exit() {
    if (inside.decrementAndGet() == RETIRED) {
      drained.complete(null);
    }
  }

  /**
   * Takes no more requests, waits up to {@code drainMillis} for those inside to be answered, then closes the
   * pool (its metrics belong to the repository, which may carry them on to a reload of the same number).
   */
  void retire(long drainMillis) {
    if (inside.getAndAdd(RETIRED) == 0) {
      drained.complete(null);
    }
    try {
      drained.get(drainMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // The pool's own close bounds what is left: requests still queued are refused as unavailable.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
    // The state stays as it was: a reader holding the entry this load belonged to (read just before the swap)
    // still sees it ready, as that entry said; new requests cannot enter it any more.
    if (pool != null) {
      pool.close(0);
    }
  }

  /** Closes the pool, letting queued requests finish for up to {@code drainMillis}; for the server's shutdown. */
  void close(long drainMillis) {
    state = ModelState.UNAVAILABLE;
    if (pool != null) {
      pool.close(drainMillis);
    }
  }

  /** Whether the version loaded and so has metrics. */
  boolean hasMetrics() {
    return metrics != null;
  }

  private static <T> T require(@Nullable T value) {
    if (value == null) {
      throw new IllegalStateException("version is not loaded");
    }
    return value;
  }
}
