package io.serval.engine.tensorrt;

import io.serval.core.Shapes;
import io.serval.core.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Derives the one optimization profile a plan is built with: a {@link ShapeRange} for every input that has a dynamic
 * dimension, from the model's declared input shapes and the engine settings.
 *
 * <p>The rule, per input: an explicit {@code profile.<input>} wins (its fixed dimensions must match the model's). An
 * input whose only dynamic dimension is the first is batched: it ranges over batch 1 to {@code max_batch_size}, and
 * TensorRT tunes for the full batch ({@code opt = max}), because dynamic batching fills batches to the maximum
 * exactly when throughput matters, while a lone request at batch 1 still runs, only on kernels tuned for the
 * larger batch. Any other dynamic dimension has no range Serval could guess, so it needs an explicit profile. Inputs
 * without dynamic dimensions need no range.
 *
 * <pre>{@code
 * List<ShapeRange> profile = OptimizationProfiles.derive(signature.inputs(), settings);
 * }</pre>
 */
final class OptimizationProfiles {
  private OptimizationProfiles() {}

  /**
   * The ranges of the dynamic inputs, in the model's input order.
   *
   * @throws IllegalArgumentException naming the input, its shape and the parameter that would settle it
   */
  static List<ShapeRange> derive(List<TensorSpec> inputs, TensorRtSettings settings) {
    Map<String, ShapeRange> explicit = settings.profiles();
    for (String name : explicit.keySet()) {
      if (inputs.stream().noneMatch(input -> input.name().equals(name))) {
        throw new IllegalArgumentException("parameters.profile." + name + ": the model has no input '" + name
            + "' (expected one of: " + inputs.stream().map(TensorSpec::name).collect(Collectors.joining(", ")) + ")");
      }
    }
    List<ShapeRange> ranges = new ArrayList<>();
    for (TensorSpec input : inputs) {
      long[] shape = input.shape();
      ShapeRange given = explicit.get(input.name());
      if (given != null) {
        ranges.add(checkAgainstModel(input, given));
      } else if (!Shapes.isConcrete(shape)) {
        ranges.add(batchRange(input, settings.maxBatchSize()));
      }
    }
    return List.copyOf(ranges);
  }

  /** The profile canonically, as plan cache keys hold it: {@code x:1x3/8x3/8x3|y:...}, or {@code none}. */
  static String canonical(List<ShapeRange> ranges) {
    return ranges.isEmpty() ? "none" : ranges.stream().map(ShapeRange::canonical).collect(Collectors.joining("|"));
  }

  private static ShapeRange checkAgainstModel(TensorSpec input, ShapeRange given) {
    long[] shape = input.shape();
    if (given.rank() != shape.length) {
      throw new IllegalArgumentException("parameters.profile." + input.name() + ": shapes of rank " + given.rank()
          + " for input '" + input.name() + "' " + Shapes.format(shape) + " (expected: rank " + shape.length + ")");
    }
    long[] min = given.min();
    long[] max = given.max();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] != Shapes.DYNAMIC && (min[i] != shape[i] || max[i] != shape[i])) {
        throw new IllegalArgumentException("parameters.profile." + input.name() + ": dimension " + i + " ranges "
            + min[i] + " to " + max[i] + " but the model fixes it at " + shape[i] + " in " + Shapes.format(shape)
            + " (expected: " + shape[i] + " in min, opt and max)");
      }
    }
    return given;
  }

  private static ShapeRange batchRange(TensorSpec input, int maxBatchSize) {
    long[] shape = input.shape();
    for (int i = 1; i < shape.length; i++) {
      if (shape[i] == Shapes.DYNAMIC) {
        throw new IllegalArgumentException("input '" + input.name() + "' " + Shapes.format(shape) + " has dynamic"
            + " dimension " + i + ", which only the model's author can bound (expected: parameter profile."
            + input.name() + " with min,opt,max shapes, such as " + example(shape, maxBatchSize) + ")");
      }
    }
    if (maxBatchSize == 0) {
      throw new IllegalArgumentException("input '" + input.name() + "' " + Shapes.format(shape) + " has a dynamic"
          + " batch dimension (expected: parameter max_batch_size, or profile." + input.name() + " with min,opt,max"
          + " shapes)");
    }
    long[] min = shape.clone();
    long[] max = shape.clone();
    min[0] = 1;
    max[0] = maxBatchSize;
    return ShapeRange.of(input.name(), min, max, max);
  }

  private static String example(long[] shape, int maxBatchSize) {
    long batch = maxBatchSize > 0 ? maxBatchSize : 8;
    StringBuilder min = new StringBuilder();
    StringBuilder opt = new StringBuilder();
    StringBuilder max = new StringBuilder();
    for (int i = 0; i < shape.length; i++) {
      String separator = i == 0 ? "" : "x";
      boolean dynamic = shape[i] == Shapes.DYNAMIC;
      min.append(separator).append(dynamic ? (i == 0 ? 1 : 32) : shape[i]);
      opt.append(separator).append(dynamic ? (i == 0 ? batch : 224) : shape[i]);
      max.append(separator).append(dynamic ? (i == 0 ? batch : 640) : shape[i]);
    }
    return min + "," + opt + "," + max;
  }
}
