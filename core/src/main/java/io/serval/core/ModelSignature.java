package io.serval.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The inputs and outputs of a model, in the model's own order. */
public final class ModelSignature {
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final Map<String, TensorSpec> inputsByName;
  private final Map<String, TensorSpec> outputsByName;

  private ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs) {
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.inputsByName = index(this.inputs, "input");
    this.outputsByName = index(this.outputs, "output");
  }

  /** A signature; throws when two inputs or two outputs share a name. */
  public static ModelSignature of(List<TensorSpec> inputs, List<TensorSpec> outputs) {
    return new ModelSignature(inputs, outputs);
  }

  private static Map<String, TensorSpec> index(List<TensorSpec> specs, String what) {
    Map<String, TensorSpec> byName = new LinkedHashMap<>();
    for (TensorSpec spec : specs) {
      if (byName.put(spec.name(), spec) != null) {
        throw new IllegalArgumentException("two " + what + "s are named '" + spec.name() + "'");
      }
    }
    return byName;
  }

  public List<TensorSpec> inputs() {
    return inputs;
  }

  public List<TensorSpec> outputs() {
    return outputs;
  }

  public @Nullable TensorSpec input(String name) {
    return inputsByName.get(name);
  }

  public @Nullable TensorSpec output(String name) {
    return outputsByName.get(name);
  }

  @Override
  public String toString() {
    return "inputs " + inputs + " -> outputs " + outputs;
  }
}
