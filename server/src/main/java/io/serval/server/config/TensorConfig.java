package io.serval.server.config;

import io.serval.core.DataType;
import io.serval.core.Shapes;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A configured model input or output: its name, type and dims (without the batch dimension when the model is
 * batched), and for an output the class labels the classification extension uses.
 */
public final class TensorConfig {
  private final String name;
  private final DataType dataType;
  private final long[] dims;
  private final @Nullable String labelsFile;
  private final List<String> labels;

  TensorConfig(String name, DataType dataType, long[] dims, @Nullable String labelsFile, List<String> labels) {
    this.name = name;
    this.dataType = dataType;
    this.dims = dims.clone();
    this.labelsFile = labelsFile;
    this.labels = List.copyOf(labels);
  }

  public String name() {
    return name;
  }

  public DataType dataType() {
    return dataType;
  }

  /** The dims as configured, {@code -1} for open ones, without the batch dimension. */
  public long[] dims() {
    return dims.clone();
  }

  /** The labels file of an output, relative to the model folder, if one is configured. */
  public @Nullable String labelsFile() {
    return labelsFile;
  }

  /** The labels of an output's classes, by index; empty when none are configured. */
  public List<String> labels() {
    return labels;
  }

  @Override
  public String toString() {
    return name + ":" + dataType.wireName() + Shapes.format(dims);
  }
}
