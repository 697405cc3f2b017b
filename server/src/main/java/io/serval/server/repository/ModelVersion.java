package io.serval.server.repository;

import io.serval.core.ModelSignature;
import io.serval.server.config.ModelConfig;
import io.serval.server.metrics.ModelMetrics;
import io.serval.server.scheduling.InstancePool;
import org.jspecify.annotations.Nullable;

/**
 * One version of one model: ready with its instance pool and metrics, or unavailable with the reason it failed
 * to load.
 */
public final class ModelVersion {
  private final String modelName;
  private final long version;
  private final @Nullable ModelConfig config;
  private final @Nullable InstancePool pool;
  private final @Nullable ModelMetrics metrics;
  private final String reason;
  private final String threading;
  private volatile ModelState state;

  private ModelVersion(
      String modelName,
      long version,
      @Nullable ModelConfig config,
      @Nullable InstancePool pool,
      @Nullable ModelMetrics metrics,
      ModelState state,
      String reason,
      String threading) {
    this.modelName = modelName;
    this.version = version;
    this.config = config;
    this.pool = pool;
    this.metrics = metrics;
    this.state = state;
    this.reason = reason;
    this.threading = threading;
  }

  static ModelVersion ready(String modelName, long version, ModelConfig config, InstancePool pool,
      ModelMetrics metrics, String threading) {
    return new ModelVersion(modelName, version, config, pool, metrics, ModelState.READY, "", threading);
  }

  static ModelVersion failed(String modelName, long version, String reason) {
    return new ModelVersion(modelName, version, null, null, null, ModelState.UNAVAILABLE, reason, "");
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

  void close(long drainMillis) {
    state = ModelState.UNAVAILABLE;
    if (pool != null) {
      pool.close(drainMillis);
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  private static <T> T require(@Nullable T value) {
    if (value == null) {
      throw new IllegalStateException("version is not loaded");
    }
    return value;
  }
}
