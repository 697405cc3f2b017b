package io.serval.engine.arm;

import io.serval.core.DataType;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.engine.Device;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.RunContext;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The built-in models on fixed inputs, run through an engine: the same on the x86-64 test JVM and on the emulated
 * aarch64 one ({@link EmulatedRun}), so that their outputs can be compared value by value. Inputs are the golden
 * ones where a model has them and seeded otherwise ({@link Random} gives the same sequence on every JVM).
 */
final class BuiltInModels {
  /**
   * The CPU budget every test in this module gives its engines: the ONNX Runtime pool is one per process and sized by
   * the first engine, so engines with different budgets could not share it.
   */
  static final int CPU_THREADS = 2;

  /** The models, in the order they run. */
  static final List<String> NAMES = List.of("digits", "spam", "ocr_det", "ocr_orientation", "ocr_rec");

  private static final Pattern SPAM_ARRAY =
      Pattern.compile("\"(input_ids|attention_mask|token_type_ids)\": \\[([^]]*)]");

  private BuiltInModels() {}

  /**
   * Runs every built-in model from {@code modelFiles}/NAME/1/{@code fileName} on the inputs of {@code models}/NAME;
   * all outputs, by model and output.
   */
  static Map<String, Map<String, float[]>> runAll(
      InferenceEngine engine, Path models, Path modelFiles, String fileName) throws Exception {
    Map<String, Map<String, float[]>> results = new LinkedHashMap<>();
    for (String name : NAMES) {
      results.put(name, run(engine, models, name, modelFiles.resolve(name).resolve("1").resolve(fileName)));
    }
    return results;
  }

  /** Runs one model file on the fixed inputs of the built-in model {@code name}; its outputs as floats, by name. */
  static Map<String, float[]> run(InferenceEngine engine, Path models, String name, Path modelFile) throws Exception {
    List<Tensor> inputs = inputs(models, name);
    MemoryScope scope = MemoryScope.open();
    try (ModelInstance instance = engine.open(InstanceSpec.of(name, 1, modelFile, Device.cpu(), 0, Map.of()))) {
      List<String> outputNames = new ArrayList<>();
      for (TensorSpec output : instance.signature().outputs()) {
        outputNames.add(output.name());
      }
      List<Tensor> outputs = instance.run(inputs, outputNames, RunContext.of(scope)).outputs();
      Map<String, float[]> values = new LinkedHashMap<>();
      for (Tensor output : outputs) {
        if (output.dataType() != DataType.FP32) {
          throw new IllegalStateException(name + ": output " + output.name() + " is " + output.dataType());
        }
        FloatBuffer floats = output.floats();
        float[] copy = new float[floats.remaining()];
        floats.get(copy);
        values.put(output.name(), copy);
      }
      return values;
    } finally {
      scope.release();
    }
  }

  /** The fixed inputs of a built-in model. */
  static List<Tensor> inputs(Path models, String name) throws IOException {
    Path golden = models.resolve(name).resolve("golden");
    switch (name) {
      case "digits":
        return List.of(Tensor.of("x", DataType.FP32, new long[] {3, 1, 28, 28}, read(golden.resolve("input_x.bin"))));
      case "ocr_orientation":
        return List.of(
            Tensor.of("x", DataType.FP32, new long[] {2, 3, 48, 192}, read(golden.resolve("input_x.bin"))));
      case "spam":
        return spamInputs(Files.readString(golden.resolve("golden.json")));
      case "ocr_det":
        // 320 x 320 keeps the detector's run short under emulation; each side must be a multiple of 32.
        return List.of(seeded("x", 1, new long[] {1, 3, 320, 320}));
      case "ocr_rec":
        return List.of(seeded("x", 2, new long[] {1, 3, 48, 320}));
      default:
        throw new IllegalArgumentException("model: " + name + " (expected: one of " + NAMES + ")");
    }
  }

  /** The first two golden examples (both 128 tokens), as a batch of two. */
  private static List<Tensor> spamInputs(String goldenJson) {
    Map<String, List<long[]>> arrays = new LinkedHashMap<>();
    Matcher matcher = SPAM_ARRAY.matcher(goldenJson);
    while (matcher.find()) {
      String[] items = matcher.group(2).split(",");
      long[] values = new long[items.length];
      for (int i = 0; i < items.length; i++) {
        values[i] = Long.parseLong(items[i].trim());
      }
      arrays.computeIfAbsent(matcher.group(1), k -> new ArrayList<>()).add(values);
    }
    List<Tensor> inputs = new ArrayList<>();
    for (Map.Entry<String, List<long[]>> input : arrays.entrySet()) {
      long[] first = input.getValue().get(0);
      long[] second = input.getValue().get(1);
      ByteBuffer data = ByteBuffer.allocate((first.length + second.length) * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      data.asLongBuffer().put(first).put(second);
      inputs.add(Tensor.of(input.getKey(), DataType.INT64, new long[] {2, first.length}, data));
    }
    return inputs;
  }

  private static Tensor seeded(String name, long seed, long[] shape) {
    Random random = new Random(seed);
    float[] values = new float[Math.toIntExact(shape[0] * shape[1] * shape[2] * shape[3])];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat() * 2 - 1;
    }
    return Tensor.ofFloats(name, shape, values);
  }

  private static ByteBuffer read(Path file) throws IOException {
    return ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Writes outputs as {@link #runAll} returns them. */
  static void write(Map<String, Map<String, float[]>> results, OutputStream stream) throws IOException {
    DataOutputStream out = new DataOutputStream(stream);
    out.writeInt(results.size());
    for (Map.Entry<String, Map<String, float[]>> model : results.entrySet()) {
      out.writeUTF(model.getKey());
      out.writeInt(model.getValue().size());
      for (Map.Entry<String, float[]> output : model.getValue().entrySet()) {
        out.writeUTF(output.getKey());
        out.writeInt(output.getValue().length);
        for (float value : output.getValue()) {
          out.writeFloat(value);
        }
      }
    }
    out.flush();
  }

  /** Reads what {@link #write} wrote. */
  static Map<String, Map<String, float[]>> read(InputStream stream) throws IOException {
    DataInputStream in = new DataInputStream(stream);
    Map<String, Map<String, float[]>> results = new LinkedHashMap<>();
    int models = in.readInt();
    for (int m = 0; m < models; m++) {
      String model = in.readUTF();
      Map<String, float[]> outputs = new LinkedHashMap<>();
      int count = in.readInt();
      for (int o = 0; o < count; o++) {
        String output = in.readUTF();
        float[] values = new float[in.readInt()];
        for (int i = 0; i < values.length; i++) {
          values[i] = in.readFloat();
        }
        outputs.put(output, values);
      }
      results.put(model, outputs);
    }
    return results;
  }

  /** The largest absolute difference between two runs' outputs of one model; throws when their shapes differ. */
  static double maxDifference(String model, Map<String, float[]> expected, Map<String, float[]> actual) {
    if (!expected.keySet().equals(actual.keySet())) {
      throw new AssertionError(model + ": outputs " + actual.keySet() + " (expected: " + expected.keySet() + ")");
    }
    double max = 0;
    for (Map.Entry<String, float[]> output : expected.entrySet()) {
      float[] want = output.getValue();
      float[] got = actual.get(output.getKey());
      if (want.length != got.length) {
        throw new AssertionError(
            model + "/" + output.getKey() + ": " + got.length + " values (expected: " + want.length + ")");
      }
      for (int i = 0; i < want.length; i++) {
        max = Math.max(max, Math.abs((double) want[i] - got[i]));
      }
    }
    return max;
  }
}
