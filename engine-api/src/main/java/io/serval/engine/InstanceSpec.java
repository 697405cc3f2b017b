package io.serval.engine;

import java.nio.file.Path;
import java.util.Map;

/** What an engine needs to open one instance of one model version. */
public final class InstanceSpec {
  private final String modelName;
  private final long version;
  private final Path modelFile;
  private final Device device;
  private final int instanceIndex;
  private final Map<String, String> parameters;
  private final int maxBatchSize;

  private InstanceSpec(
      String modelName,
      long version,
      Path modelFile,
      Device device,
      int instanceIndex,
      Map<String, String> parameters,
      int maxBatchSize) {
    this.modelName = modelName;
    this.version = version;
    this.modelFile = modelFile;
    this.device = device;
    this.instanceIndex = instanceIndex;
    this.parameters = Map.copyOf(parameters);
    this.maxBatchSize = maxBatchSize;
  }

  public static InstanceSpec of(
      String modelName,
      long version,
      Path modelFile,
      Device device,
      int instanceIndex,
      Map<String, String> parameters) {
    if (version < 0) {
      throw new IllegalArgumentException("version: " + version + " (expected: >= 0)");
    }
    if (instanceIndex < 0) {
      throw new IllegalArgumentException("instanceIndex: " + instanceIndex + " (expected: >= 0)");
    }
    return new InstanceSpec(modelName, version, modelFile, device, instanceIndex, parameters, 0);
  }

  /**
   * This spec for a model the server sends batches of up to {@code maxBatchSize} rows (0: not batched), for engines
   * that must size buffers or build for it ahead of the first request.
   */
  public InstanceSpec withMaxBatchSize(int maxBatchSize) {
    if (maxBatchSize < 0) {
      throw new IllegalArgumentException("maxBatchSize: " + maxBatchSize + " (expected: >= 0)");
    }
    return new InstanceSpec(modelName, version, modelFile, device, instanceIndex, parameters, maxBatchSize);
  }

  /** The largest batch the server sends this model, 0 when it is not batched or not said. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  public String modelName() {
    return modelName;
  }

  public long version() {
    return version;
  }

  /** The model file inside the version folder. */
  public Path modelFile() {
    return modelFile;
  }

  public Device device() {
    return device;
  }

  /** Which instance of this version this is, from 0. */
  public int instanceIndex() {
    return instanceIndex;
  }

  /** Engine-specific parameters from the model's configuration. */
  public Map<String, String> parameters() {
    return parameters;
  }

  @Override
  public String toString() {
    return modelName + " v" + version + " #" + instanceIndex + " on " + device;
  }
}
