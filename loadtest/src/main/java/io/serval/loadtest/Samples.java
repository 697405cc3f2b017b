package io.serval.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The requests a run sends, built once before it starts: generated from the model's metadata, read from files
 * ({@code --input}), or read from perf_analyzer's {@code --input-data} JSON (several samples, sent round-robin).
 */
final class Samples {
  /** One input as the model's metadata declares it ({@code -1} for a dimension of any size). */
  record InputSpec(String name, String datatype, long[] shape) {}

  private static final Pattern NPY_DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']+)'");
  private static final Pattern NPY_FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern NPY_SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
  private static final Map<String, String> NPY_TYPES = Map.ofEntries(
      Map.entry("|b1", "BOOL"), Map.entry("|u1", "UINT8"), Map.entry("|i1", "INT8"),
      Map.entry("<u2", "UINT16"), Map.entry("<i2", "INT16"), Map.entry("<f2", "FP16"),
      Map.entry("<u4", "UINT32"), Map.entry("<i4", "INT32"), Map.entry("<f4", "FP32"),
      Map.entry("<u8", "UINT64"), Map.entry("<i8", "INT64"), Map.entry("<f8", "FP64"));

  private Samples() {}

  /** The samples for {@code options} against a model with these inputs. */
  static List<List<InputTensor>> of(LoadOptions options, List<InputSpec> inputs) throws IOException {
    List<String> names = inputs.stream().map(InputSpec::name).toList();
    for (String name : options.shapes().keySet()) {
      requireInput("--shape", name, names);
    }
    for (String name : options.inputFiles().keySet()) {
      requireInput("--input", name, names);
    }
    if (options.inputData() != null) {
      return fromInputData(options, inputs, options.inputData());
    }
    Random random = new Random(options.seed());
    List<InputTensor> sample = new ArrayList<>();
    for (InputSpec input : inputs) {
      Path file = options.inputFiles().get(input.name());
      sample.add(file != null ? fromFile(options, input, file) : generated(options, input, random));
    }
    return List.of(sample);
  }

  private static void requireInput(String option, String name, List<String> names) {
    if (!names.contains(name)) {
      throw new IllegalArgumentException(option + " " + name + ": the model has no such input (its inputs: "
          + names + ")");
    }
  }

  /** The shape to send: {@code --shape}, or the declared one with a leading -1 as the batch, other -1 as 1. */
  static long[] shape(LoadOptions options, InputSpec input) {
    long[] given = options.shapes().get(input.name());
    if (given != null) {
      return given;
    }
    long[] shape = input.shape().clone();
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] < 0) {
        shape[i] = i == 0 ? options.batch() : 1;
      }
    }
    return shape;
  }

  private static InputTensor generated(LoadOptions options, InputSpec input, Random random) {
    long[] shape = shape(options, input);
    int count = Math.toIntExact(InputTensor.elementCount(shape));
    int size = InputTensor.elementBytes(input.datatype());
    if (size == 0) {
      ByteBuffer out = ByteBuffer.allocate(count * 12).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < count; i++) {
        byte[] text = ("sample " + random.nextInt(1000)).getBytes(StandardCharsets.US_ASCII);
        out.putInt(text.length).put(text);
      }
      return new InputTensor(input.name(), input.datatype(), shape, Arrays.copyOf(out.array(), out.position()));
    }
    ByteBuffer out = ByteBuffer.allocate(count * size).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      switch (input.datatype()) {
        case "FP32" -> out.putFloat(random.nextFloat());
        case "FP64" -> out.putDouble(random.nextDouble());
        // Small non-negative integers: valid token ids, indices and flags for most models.
        case "INT64", "UINT64" -> out.putLong(random.nextInt(100));
        case "INT32", "UINT32" -> out.putInt(random.nextInt(100));
        case "INT16", "UINT16" -> out.putShort((short) random.nextInt(100));
        case "FP16" -> out.putShort((short) 0x3800); // 0.5
        case "BF16" -> out.putShort((short) 0x3f00); // 0.5
        case "INT8", "UINT8" -> out.put((byte) random.nextInt(100));
        case "BOOL" -> out.put((byte) random.nextInt(2));
        default -> throw new IllegalArgumentException("input " + input.name() + ": datatype " + input.datatype());
      }
    }
    return new InputTensor(input.name(), input.datatype(), shape, out.array());
  }

  /** A raw little-endian file (shape from --shape or the metadata) or a NumPy {@code .npy} file. */
  private static InputTensor fromFile(LoadOptions options, InputSpec input, Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    String what = "--input " + input.name() + "=" + file;
    if (file.toString().endsWith(".npy")) {
      return fromNpy(input, bytes, what);
    }
    long[] shape = shape(options, input);
    int size = InputTensor.elementBytes(input.datatype());
    if (size == 0 && InputTensor.elementCount(shape) == 1) {
      // A file for one BYTES element (an image, a text) is that element, sent with its length prefix.
      byte[] element = ByteBuffer.allocate(Integer.BYTES + bytes.length).order(ByteOrder.LITTLE_ENDIAN)
          .putInt(bytes.length).put(bytes).array();
      return new InputTensor(input.name(), input.datatype(), shape, element);
    }
    if (size > 0 && bytes.length != InputTensor.elementCount(shape) * size) {
      throw new IllegalArgumentException(what + ": " + bytes.length + " bytes, expected "
          + InputTensor.elementCount(shape) * size + " for " + input.datatype() + Arrays.toString(shape)
          + " (give the shape with --shape " + input.name() + "=...)");
    }
    return new InputTensor(input.name(), input.datatype(), shape, bytes);
  }

  private static InputTensor fromNpy(InputSpec input, byte[] bytes, String what) {
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 10 || (in.get(0) & 0xff) != 0x93 || !new String(bytes, 1, 5, StandardCharsets.US_ASCII)
        .equals("NUMPY")) {
      throw new IllegalArgumentException(what + ": not a NumPy .npy file");
    }
    int major = bytes[6];
    int headerLength = major == 1 ? in.getShort(8) & 0xffff : in.getInt(8);
    int headerStart = major == 1 ? 10 : 12;
    if (headerStart + headerLength > bytes.length) {
      throw new IllegalArgumentException(what + ": truncated .npy header");
    }
    String header = new String(bytes, headerStart, headerLength, StandardCharsets.ISO_8859_1);
    Matcher descr = NPY_DESCR.matcher(header);
    Matcher fortran = NPY_FORTRAN.matcher(header);
    Matcher shapeText = NPY_SHAPE.matcher(header);
    if (!descr.find() || !fortran.find() || !shapeText.find()) {
      throw new IllegalArgumentException(what + ": unreadable .npy header " + header.trim());
    }
    String datatype = NPY_TYPES.get(descr.group(1).replace("=", "<"));
    if (datatype == null) {
      throw new IllegalArgumentException(what + ": dtype " + descr.group(1) + " (expected a little-endian "
          + "numeric dtype)");
    }
    if (!datatype.equals(input.datatype())) {
      throw new IllegalArgumentException(what + ": dtype " + descr.group(1) + " is " + datatype
          + ", the model expects " + input.datatype());
    }
    if (fortran.group(1).equals("True")) {
      throw new IllegalArgumentException(what + ": Fortran-ordered arrays are not supported (save it C-ordered)");
    }
    long[] shape = Arrays.stream(shapeText.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty())
        .mapToLong(Long::parseLong).toArray();
    int dataStart = headerStart + headerLength;
    long expected = InputTensor.elementCount(shape) * InputTensor.elementBytes(datatype);
    if (bytes.length - dataStart != expected) {
      throw new IllegalArgumentException(what + ": " + (bytes.length - dataStart) + " data bytes, expected "
          + expected + " for shape " + Arrays.toString(shape));
    }
    return new InputTensor(input.name(), datatype, shape, Arrays.copyOfRange(bytes, dataStart, bytes.length));
  }

  /**
   * perf_analyzer's {@code --input-data} JSON: {@code {"data": [{"x": [..]}, {"x": {"content": [..], "shape":
   * [..]}}, {"x": {"b64": ".."}}]}}. As in perf_analyzer, a shape without the batch dimension of a batching
   * model gets {@code --batch} copies of the data.
   */
  private static List<List<InputTensor>> fromInputData(LoadOptions options, List<InputSpec> inputs, Path file)
      throws IOException {
    JsonNode root = new ObjectMapper().readTree(file.toFile());
    JsonNode data = root == null ? null : root.get("data");
    if (data == null || !data.isArray() || data.isEmpty()) {
      throw new IllegalArgumentException("--input-data " + file + ": expected {\"data\": [ {input: values}, ... ]}"
          + " with at least one sample");
    }
    List<List<InputTensor>> samples = new ArrayList<>();
    for (int s = 0; s < data.size(); s++) {
      JsonNode sample = data.get(s);
      List<InputTensor> tensors = new ArrayList<>();
      for (Iterator<String> it = sample.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        if (inputs.stream().noneMatch(i -> i.name().equals(name))) {
          throw new IllegalArgumentException("--input-data " + file + ": data[" + s + "]." + name
              + ": the model has no such input (its inputs: " + inputs.stream().map(InputSpec::name).toList() + ")");
        }
      }
      for (InputSpec input : inputs) {
        String what = "--input-data " + file + ": data[" + s + "]." + input.name();
        JsonNode value = sample.get(input.name());
        if (value == null) {
          throw new IllegalArgumentException(what + ": missing (every sample gives every input)");
        }
        tensors.add(fromJsonValue(options, input, value, what));
      }
      samples.add(List.copyOf(tensors));
    }
    return List.copyOf(samples);
  }

  private static InputTensor fromJsonValue(LoadOptions options, InputSpec input, JsonNode value, String what) {
    JsonNode content = value.isObject() ? value.get("content") : value;
    long[] shape = shape(options, input);
    JsonNode shapeNode = value.isObject() ? value.get("shape") : null;
    if (shapeNode != null) {
      shape = new long[shapeNode.size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shapeNode.get(i).asLong();
      }
    }
    byte[] bytes;
    if (value.isObject() && value.has("b64")) {
      bytes = Base64.getDecoder().decode(value.get("b64").asText());
    } else if (content != null) {
      bytes = InputTensor.fromJson(input.datatype(), content, what);
    } else {
      throw new IllegalArgumentException(what + ": expected an array, {\"content\": [...]} or {\"b64\": \"...\"}");
    }
    boolean batchOmitted = input.shape().length > 0 && input.shape()[0] < 0 && shape.length
        == input.shape().length - 1 && !options.shapes().containsKey(input.name());
    if (batchOmitted) {
      long[] batched = new long[shape.length + 1];
      batched[0] = options.batch();
      System.arraycopy(shape, 0, batched, 1, shape.length);
      byte[] copies = new byte[bytes.length * options.batch()];
      for (int b = 0; b < options.batch(); b++) {
        System.arraycopy(bytes, 0, copies, b * bytes.length, bytes.length);
      }
      shape = batched;
      bytes = copies;
    }
    int size = InputTensor.elementBytes(input.datatype());
    if (size > 0 && bytes.length != InputTensor.elementCount(shape) * size) {
      throw new IllegalArgumentException(what + ": " + bytes.length / size + " elements, expected "
          + InputTensor.elementCount(shape) + " for shape " + Arrays.toString(shape));
    }
    return new InputTensor(input.name(), input.datatype(), shape, bytes);
  }
}
