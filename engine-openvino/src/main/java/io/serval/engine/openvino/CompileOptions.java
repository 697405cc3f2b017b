package io.serval.engine.openvino;

import io.serval.engine.ModelLoadException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How one instance's model is compiled for the CPU, from the model's {@code parameters}: {@code
 * performance_hint} ({@code LATENCY}, the default, or {@code THROUGHPUT}), {@code threads} (1 to the engine's CPU
 * budget, which is the default), {@code num_streams} (1 to {@code threads}; unset: OpenVINO chooses from the hint)
 * and {@code inference_precision} ({@code f32}, the default, {@code bf16} or {@code f16}). CPU pinning is always
 * off, since the cores are shared with the server's own threads and the other instances.
 */
final class CompileOptions {
  static final String PERFORMANCE_HINT = "performance_hint";
  static final String THREADS = "threads";
  static final String NUM_STREAMS = "num_streams";
  static final String INFERENCE_PRECISION = "inference_precision";
  private static final List<String> NAMES = List.of(PERFORMANCE_HINT, THREADS, NUM_STREAMS, INFERENCE_PRECISION);

  final String performanceHint;
  final int threads;
  /** 0: OpenVINO chooses. */
  final int numStreams;
  final String inferencePrecision;

  private CompileOptions(String performanceHint, int threads, int numStreams, String inferencePrecision) {
    this.performanceHint = performanceHint;
    this.threads = threads;
    this.numStreams = numStreams;
    this.inferencePrecision = inferencePrecision;
  }

  /**
   * Reads the parameters of {@code model} (named in messages) against the engine's thread budget.
   *
   * @throws ModelLoadException naming the parameter, its value and what was expected
   */
  static CompileOptions parse(String model, Map<String, String> parameters, int cpuThreads)
      throws ModelLoadException {
    for (String name : parameters.keySet()) {
      if (!NAMES.contains(name)) {
        throw new ModelLoadException(
            model + ": unknown parameter '" + name + "' for the openvino engine (expected: "
                + String.join(", ", NAMES) + ")");
      }
    }
    String hint = parameters.getOrDefault(PERFORMANCE_HINT, "LATENCY").trim().toUpperCase(Locale.ROOT);
    if (!hint.equals("LATENCY") && !hint.equals("THROUGHPUT")) {
      throw new ModelLoadException(
          model + ": parameter " + PERFORMANCE_HINT + ": '" + parameters.get(PERFORMANCE_HINT)
              + "' (expected: LATENCY or THROUGHPUT)");
    }
    int threads = cpuThreads;
    if (parameters.containsKey(THREADS)) {
      threads =
          integer(model, THREADS, parameters.get(THREADS), cpuThreads, "the openvino engine's CPU thread budget");
    }
    int streams = 0;
    if (parameters.containsKey(NUM_STREAMS)) {
      streams = integer(model, NUM_STREAMS, parameters.get(NUM_STREAMS), threads, "the instance's threads");
    }
    String precision = parameters.getOrDefault(INFERENCE_PRECISION, "f32").trim().toLowerCase(Locale.ROOT);
    if (!precision.equals("f32") && !precision.equals("bf16") && !precision.equals("f16")) {
      throw new ModelLoadException(
          model + ": parameter " + INFERENCE_PRECISION + ": '" + parameters.get(INFERENCE_PRECISION)
              + "' (expected: f32, bf16 or f16)");
    }
    return new CompileOptions(hint, threads, streams, precision);
  }

  private static int integer(String model, String name, String text, int max, String limit)
      throws ModelLoadException {
    String expected = " (expected: 1 to " + max + ", " + limit + ")";
    int value;
    try {
      value = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new ModelLoadException(model + ": parameter " + name + ": '" + text + "'" + expected);
    }
    if (value < 1 || value > max) {
      throw new ModelLoadException(model + ": parameter " + name + ": " + value + expected);
    }
    return value;
  }

  /** The compile properties as the C API takes them: key, value, key, value ... */
  Object[] properties(OpenVinoRuntime.PropertyKeys keys) {
    List<String> properties = new ArrayList<>(10);
    properties.add(keys.performanceHint);
    properties.add(performanceHint);
    properties.add(keys.inferenceNumThreads);
    properties.add(Integer.toString(threads));
    properties.add(keys.inferencePrecision);
    properties.add(inferencePrecision);
    properties.add(keys.cpuPinning);
    properties.add("NO");
    if (numStreams > 0) {
      properties.add(keys.numStreams);
      properties.add(Integer.toString(numStreams));
    }
    return properties.toArray();
  }
}
