package io.serval.server.fuzz;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.serval.protocol.v2.InferParameter;
import io.serval.protocol.v2.InferTensorContents;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.server.fuzz.FuzzCase.Channel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Makes malformed requests from valid ones, for the built-in {@code ocr_orientation} model (FP32 [-1,3,48,192]),
 * the affine test model (FP32 [-1,4]) and the built-in ONNX file served without a config ({@code ocr_dynamic},
 * FP32 [-1,3,-1,-1]). Case {@code i} of seed {@code s} is always the same request, whatever ran before it, so a
 * failure is replayed from its seed and index alone.
 *
 * <p>Families (by share of cases): JSON bodies (34%), binary tensor framing (20%), headers, encodings and routes
 * (16%), gRPC messages through the generated stub (18%) and raw gRPC bytes, framed and unframed (12%).
 *
 * <p>A case is {@link FuzzCase.Expect#REJECT} only when the request is malformed whatever else it holds
 * (truncated JSON, a lying Inference-Header-Content-Length, an unsupported encoding...); everything else may
 * succeed, since a mutation can leave a request valid.
 */
final class FuzzGenerator {
  /** The body limit the generated sizes are chosen around; the server under test must be started with it. */
  static final int MAX_REQUEST_BYTES = 8 << 20;
  static final String GRPC_INFER = "/inference.GRPCInferenceService/ModelInfer";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String MARK = "FUZZ_MARK_7f3a";
  private static final String[] FAMILIES = {"json", "binary", "headers", "grpc-stub", "grpc-raw"};
  private static final int[] FAMILY_WEIGHTS = {34, 20, 16, 18, 12};

  /** A model the generator knows the signature of. */
  enum Target {
    OCR("ocr_orientation", "softmax_0.tmp_0", new long[] {3, 48, 192}, 8),
    AFFINE("affine", "y", new long[] {4}, 8),
    DYNAMIC("ocr_dynamic", "softmax_0.tmp_0", new long[] {3, 48, 96}, 4);

    final String model;
    final String input = "x";
    final String output;
    /** A valid shape without the batch dimension. */
    final long[] dims;
    final int maxBatch;

    Target(String model, String output, long[] dims, int maxBatch) {
      this.model = model;
      this.output = output;
      this.dims = dims;
      this.maxBatch = maxBatch;
    }

    long[] shape(int batch) {
      long[] shape = new long[dims.length + 1];
      shape[0] = batch;
      System.arraycopy(dims, 0, shape, 1, dims.length);
      return shape;
    }

    int batch(Random r) {
      // The image models cost milliseconds per row: keep their batches small.
      return this == AFFINE ? 1 + r.nextInt(maxBatch) : 1 + (r.nextInt(4) == 0 ? 1 : 0);
    }

    String inferPath() {
      return "/v2/models/" + model + "/infer";
    }
  }

  private final long seed;

  FuzzGenerator(long seed) {
    this.seed = seed;
  }

  long seed() {
    return seed;
  }

  static List<String> families() {
    return List.of(FAMILIES);
  }

  /** Case {@code index}: the same request for the same seed and index, every time. */
  FuzzCase generate(int index) {
    Random r = new Random(new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (index + 1L))).nextLong());
    int pick = r.nextInt(100);
    int family = 0;
    for (int acc = FAMILY_WEIGHTS[0]; pick >= acc; acc += FAMILY_WEIGHTS[++family]) {
      // find the family whose cumulative weight passes pick
    }
    return generate(index, FAMILIES[family], r);
  }

  /** Case {@code index} of one family (the CI test runs each family on its own). */
  FuzzCase generate(int index, String family) {
    Random r = new Random(new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (index + 1L)) ^ family.hashCode())
        .nextLong());
    return generate(index, family, r);
  }

  private FuzzCase generate(int index, String family, Random r) {
    Target target = pick(r, Target.values(), 5, 4, 1);
    switch (family) {
      case "json":
        return new JsonCase(index, target, r).build();
      case "binary":
        return binaryCase(index, target, r);
      case "headers":
        return headerCase(index, target, r);
      case "grpc-stub":
        return grpcStubCase(index, target, r);
      case "grpc-raw":
        return grpcRawCase(index, target, r);
      default:
        throw new IllegalArgumentException(family);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // JSON bodies
  // ---------------------------------------------------------------------------------------------------------

  /** A valid JSON infer request for {@code target}. */
  static ObjectNode validJson(Target target, long[] shape, Random r, String id) {
    ObjectNode root = NODES.objectNode();
    if (!id.isEmpty()) {
      root.put("id", id);
    }
    ArrayNode inputs = root.putArray("inputs");
    ObjectNode input = inputs.addObject();
    input.put("name", target.input);
    ArrayNode shapeNode = input.putArray("shape");
    long count = 1;
    for (long dim : shape) {
      shapeNode.add(dim);
      count *= dim;
    }
    input.put("datatype", "FP32");
    ArrayNode data = input.putArray("data");
    for (long i = 0; i < count; i++) {
      if (r.nextInt(64) == 0) {
        data.add(r.nextInt(3) == 0 ? r.nextInt(100) : (float) r.nextGaussian());
      } else {
        data.add(0);
      }
    }
    int outputs = r.nextInt(4);
    if (outputs > 0) {
      ObjectNode output = root.putArray("outputs").addObject().put("name", target.output);
      if (outputs == 2) {
        output.putObject("parameters").put("binary_data", r.nextBoolean());
      } else if (outputs == 3) {
        output.putObject("parameters").put("classification", 1 + r.nextInt(3));
      }
    }
    return root;
  }

  /** One JSON case: structural mutations of the tree, then at most one mutation of the serialized text. */
  private final class JsonCase {
    final int index;
    final Target target;
    final Random r;
    final List<String> applied = new ArrayList<>();
    boolean reject;
    boolean shortDeadline;
    String path;

    JsonCase(int index, Target target, Random r) {
      this.index = index;
      this.target = target;
      this.r = r;
      this.path = target.inferPath();
    }

    FuzzCase build() {
      String id = r.nextBoolean() ? "fuzz-" + index : (r.nextInt(4) == 0 ? "fuzz-\u00e9\u4e2d\n\t\"\\/" : "");
      JsonNode root = validJson(target, target.shape(target.batch(r)), r, id);
      int structural = r.nextInt(10) < 3 ? 0 : 1 + r.nextInt(r.nextInt(4) == 0 ? 4 : 1);
      for (int i = 0; i < structural; i++) {
        root = structural(root, structural == 1);
      }
      byte[] body;
      if (structural == 0 || r.nextInt(3) == 0) {
        body = textual(root);
      } else {
        body = bytes(root);
      }
      if (r.nextInt(40) == 0) {
        path = routeVariant(r, target);
        applied.add("route");
      }
      FuzzCase.Builder builder = FuzzCase.builder(seed, index, Channel.HTTP, "json/" + String.join("+", applied))
          .path(path)
          .body(body)
          .http1(r.nextInt(4) == 0);
      if (r.nextInt(3) > 0) {
        builder.header("content-type", "application/json");
      }
      if (reject) {
        builder.reject();
      }
      if (shortDeadline) {
        builder.shortDeadline();
      }
      return builder.build();
    }

    // --- structural mutations on the tree -------------------------------------------------------------------

    JsonNode structural(JsonNode root, boolean alone) {
      if (!root.isObject()) {
        return root;
      }
      ObjectNode doc = (ObjectNode) root;
      int kind = r.nextInt(16);
      switch (kind) {
        case 0:
          applied.add("drop-field");
          dropField(doc);
          return doc;
        case 1:
          applied.add("rename-field");
          renameField(doc);
          return doc;
        case 2:
        case 3:
          applied.add("wrong-type");
          wrongType(doc);
          return doc;
        case 4:
          applied.add("wrong-shape");
          input(doc).ifPresent(input -> input.set("shape", randomShape(r)));
          return doc;
        case 5:
          applied.add("wrong-datatype");
          input(doc).ifPresent(input -> input.set("datatype", randomDatatype(r)));
          return doc;
        case 6:
          applied.add("nested-data");
          input(doc).ifPresent(input -> input.set("data", nest(input.get("data"))));
          return doc;
        case 7:
          applied.add("odd-elements");
          input(doc).ifPresent(this::oddElements);
          return doc;
        case 8:
          applied.add("element-count");
          input(doc).ifPresent(input -> {
            if (input.get("data") == null || !input.get("data").isArray()) {
              return;
            }
            ArrayNode data = (ArrayNode) input.get("data");
            int delta = 1 + r.nextInt(r.nextBoolean() ? 3 : 300);
            if (r.nextBoolean()) {
              for (int i = 0; i < delta; i++) {
                data.add(0);
              }
            } else {
              for (int i = 0; i < delta && data.size() > 0; i++) {
                data.remove(data.size() - 1);
              }
            }
            reject |= alone;
          });
          return doc;
        case 9:
        case 10:
          applied.add("parameters");
          parameters(doc);
          return doc;
        case 11:
          applied.add("inputs");
          mutateInputs(doc, alone);
          return doc;
        case 12:
          applied.add("outputs");
          mutateOutputs(doc);
          return doc;
        case 13:
          applied.add("id");
          doc.set("id", r.nextBoolean() ? randomValue(r, 2) : TextNode.valueOf(longString(r, 4096)));
          return doc;
        case 14:
          applied.add("root");
          reject |= alone;
          return pick(r, new JsonNode[] {
            NODES.nullNode(), NODES.arrayNode(), NODES.arrayNode().add(doc), TextNode.valueOf("inputs"),
            NODES.numberNode(1), NODES.booleanNode(true), NODES.objectNode(),
            NODES.objectNode().set("inputs", NODES.objectNode())});
        default:
          applied.add("bytes-inputs");
          // A BYTES tensor in JSON: strings, or anything else where strings belong.
          input(doc).ifPresent(input -> {
            input.put("datatype", "BYTES");
            if (input.get("data") != null && input.get("data").isArray()) {
              ArrayNode data = (ArrayNode) input.get("data");
              for (int i = 0; i < data.size(); i++) {
                data.set(i, r.nextInt(5) == 0 ? randomValue(r, 1) : TextNode.valueOf(randomText(r, 8)));
              }
            }
          });
          return doc;
      }
    }

    java.util.Optional<ObjectNode> input(ObjectNode doc) {
      JsonNode inputs = doc.get("inputs");
      if (inputs != null && inputs.isArray() && inputs.size() > 0 && inputs.get(0).isObject()) {
        return java.util.Optional.of((ObjectNode) inputs.get(0));
      }
      return java.util.Optional.empty();
    }

    void dropField(ObjectNode doc) {
      List<ObjectNode> objects = new ArrayList<>();
      collectObjects(doc, objects);
      ObjectNode object = objects.get(r.nextInt(objects.size()));
      List<String> names = fieldNames(object);
      if (!names.isEmpty()) {
        object.remove(names.get(r.nextInt(names.size())));
      }
    }

    void renameField(ObjectNode doc) {
      List<ObjectNode> objects = new ArrayList<>();
      collectObjects(doc, objects);
      ObjectNode object = objects.get(r.nextInt(objects.size()));
      List<String> names = fieldNames(object);
      if (names.isEmpty()) {
        return;
      }
      String name = names.get(r.nextInt(names.size()));
      String renamed = pick(r, new String[] {
        name.toUpperCase(java.util.Locale.ROOT), name + " ", " " + name, "_" + name, "", name + "\u0000",
        name.replace('a', '\u0430'), name + "s", name.substring(0, Math.max(0, name.length() - 1)), "\ufeff" + name});
      JsonNode value = object.remove(name);
      object.set(renamed, value);
    }

    void wrongType(ObjectNode doc) {
      List<ObjectNode> objects = new ArrayList<>();
      collectObjects(doc, objects);
      ObjectNode object = objects.get(r.nextInt(objects.size()));
      List<String> names = fieldNames(object);
      if (names.isEmpty()) {
        return;
      }
      String name = names.get(r.nextInt(names.size()));
      JsonNode old = object.get(name);
      if (old.isArray() && old.size() > 0 && r.nextBoolean()) {
        ((ArrayNode) old).set(r.nextInt(old.size()), randomValue(r, 2));
      } else {
        object.set(name, randomValue(r, 2));
      }
    }

    JsonNode nest(JsonNode data) {
      if (data == null || !data.isArray() || data.size() == 0) {
        return data;
      }
      int style = r.nextInt(4);
      if (style == 0) {
        // Nested like the shape says (valid).
        return data;
      }
      ArrayNode result = NODES.arrayNode();
      Iterator<JsonNode> elements = data.elements();
      while (elements.hasNext()) {
        JsonNode element = elements.next();
        if (style == 1) {
          // Ragged rows of random length.
          ArrayNode row = result.addArray();
          row.add(element);
          for (int k = r.nextInt(5); k > 0 && elements.hasNext(); k--) {
            row.add(elements.next());
          }
        } else if (style == 2) {
          // Every element wrapped in a random depth of arrays.
          JsonNode wrapped = element;
          for (int depth = r.nextInt(4); depth > 0; depth--) {
            wrapped = NODES.arrayNode().add(wrapped);
          }
          result.add(wrapped);
        } else {
          // Objects and empty lists among the numbers.
          if (r.nextInt(50) == 0) {
            result.add(r.nextBoolean() ? NODES.arrayNode() : NODES.objectNode().set("v", element));
          } else {
            result.add(element);
          }
        }
      }
      return result;
    }

    void oddElements(ObjectNode input) {
      JsonNode data = input.get("data");
      if (data == null || !data.isArray() || data.size() == 0) {
        return;
      }
      for (int k = 1 + r.nextInt(3); k > 0; k--) {
        ((ArrayNode) data).set(r.nextInt(data.size()), randomValue(r, 1));
      }
    }

    void parameters(ObjectNode doc) {
      int where = r.nextInt(3);
      ObjectNode owner;
      if (where == 0) {
        owner = doc;
      } else if (where == 1) {
        java.util.Optional<ObjectNode> input = input(doc);
        if (input.isEmpty()) {
          return;
        }
        owner = input.get();
      } else {
        JsonNode outputs = doc.get("outputs");
        if (outputs == null || !outputs.isArray()) {
          outputs = doc.putArray("outputs");
          ((ArrayNode) outputs).addObject().put("name", target.output);
        }
        if (outputs.size() == 0 || !outputs.get(0).isObject()) {
          return;
        }
        owner = (ObjectNode) outputs.get(0);
      }
      if (r.nextInt(8) == 0) {
        owner.set("parameters", randomValue(r, 2));
        return;
      }
      JsonNode existing = owner.get("parameters");
      ObjectNode parameters = existing != null && existing.isObject() ? (ObjectNode) existing : owner.putObject("parameters");
      for (int k = 1 + r.nextInt(3); k > 0; k--) {
        String key = pick(r, new String[] {
          "binary_data_size", "binary_data", "classification", "binary_data_output", "shared_memory_region",
          "shared_memory_byte_size", "shared_memory_offset", "priority", "timeout", "sequence_id", "sequence_start",
          "headers", "", randomText(r, 12)});
        JsonNode value = parameterValue(r);
        parameters.set(key, value);
        if (key.equals("timeout") && where == 0) {
          shortDeadline = true;
        }
      }
    }

    void mutateInputs(ObjectNode doc, boolean alone) {
      JsonNode inputs = doc.get("inputs");
      if (inputs == null || !inputs.isArray()) {
        return;
      }
      ArrayNode list = (ArrayNode) inputs;
      switch (r.nextInt(6)) {
        case 0:
          list.removeAll();
          reject |= alone;
          break;
        case 1:
          if (list.size() > 0) {
            list.add(list.get(0).deepCopy());
            reject |= alone;
          }
          break;
        case 2:
          if (list.size() > 0 && list.get(0).isObject()) {
            ObjectNode extra = list.get(0).deepCopy();
            extra.put("name", pick(r, new String[] {"y", "X", "x ", "", "\u0000", randomText(r, 300)}));
            list.add(extra);
            reject |= alone;
          }
          break;
        case 3:
          doc.set("inputs", NODES.objectNode().set(target.input, list.size() > 0 ? list.get(0) : NODES.nullNode()));
          reject |= alone;
          break;
        case 4:
          list.insert(0, randomValue(r, 1));
          reject |= alone;
          break;
        default:
          for (int i = 0; i < 1 + r.nextInt(2000); i++) {
            list.add(NODES.objectNode().put("name", "in" + i));
          }
          reject |= alone;
      }
    }

    void mutateOutputs(ObjectNode doc) {
      ArrayNode outputs = doc.putArray("outputs");
      switch (r.nextInt(5)) {
        case 0:
          outputs.addObject().put("name", pick(r, new String[] {"nope", "", target.output + " ", "x", "Y"}));
          break;
        case 1:
          outputs.addObject().put("name", target.output);
          outputs.addObject().put("name", target.output);
          break;
        case 2:
          outputs.add(randomValue(r, 1));
          break;
        case 3:
          outputs.addObject().put("name", target.output).putObject("parameters")
              .set("classification", parameterValue(r));
          break;
        default:
          doc.set("outputs", randomValue(r, 1));
      }
    }

    // --- textual mutations on the serialized bytes -----------------------------------------------------------

    byte[] textual(JsonNode root) {
      int kind = r.nextInt(20);
      if (!root.isObject()) {
        kind = 16 + r.nextInt(4); // only mutations that need no slot
      }
      switch (kind) {
        case 0:
        case 1:
          return slot(root, "deep-nesting", deepNesting(), false);
        case 2:
          return slot(root, "long-number", longNumber(), false);
        case 3:
          return slot(root, "huge-exponent", pick(r, new String[] {
            "1e999999999", "1E-999999999", "-1e+2147483647", "1e2147483648", "0e999999999999",
            "123456789e-2147483648", "1e-400", "-0.0e-0", "4e38", "1.7976931348623157e309"}), false);
        case 4:
        case 5:
          return slotRejecting(root, "bad-token", pick(r, new String[] {
            "NaN", "Infinity", "-Infinity", "+1", ".5", "1.", "01", "0x1F", "-", "1e", "--1", "tRue", "nul",
            "undefined", "'x'", "\"unterminated", "1_000", "\u00bd", "[1,]", "{\"a\":1,}", "[,1]", "{,}", "[1 2]"}));
        case 6:
        case 7:
          return inString(root, "invalid-utf8", pick(r, new byte[][] {
            {(byte) 0xff}, {(byte) 0xfe}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
            {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xc3}, {(byte) 0x80},
            {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xe2, (byte) 0x82}}), true);
        case 8:
          return inString(root, "control-char", new byte[] {(byte) pick(r, new Integer[] {0, 1, 8, 10, 13, 27, 31})},
              true);
        case 9:
          return inString(root, "bad-escape", pick(r, new String[] {
            "\\x41", "\\u12G4", "\\uZZZZ", "\\a", "\\", "\\u00", "\\U0041", "\\'"}).getBytes(StandardCharsets.UTF_8),
              true);
        case 10:
          return inString(root, "surrogate-escape", pick(r, new String[] {
            "\\ud800", "\\udc00\\ud800", "\\ud83d\\ude00", "\\u0000"}).getBytes(StandardCharsets.UTF_8), false);
        case 11:
          return slot(root, "long-string", "\"" + longString(r, r.nextInt(4) == 0 ? MAX_REQUEST_BYTES + 100 : 1 << 20)
              + "\"", false);
        case 12:
          return truncate(bytes(withEscapes(root)));
        case 13:
          return duplicateKeys(bytes(root));
        case 14:
          return comments(bytes(root));
        case 15:
          return quoting(bytes(root));
        case 16:
          return trailing(bytes(root));
        case 17:
          return bom(bytes(root));
        case 18:
          return whitespace(bytes(root));
        default:
          return flips(bytes(root));
      }
    }

    String deepNesting() {
      int depth = pick(r, new Integer[] {10, 500, 999, 1000, 1001, 2000, 2000, 5000, 100_000});
      StringBuilder text = new StringBuilder();
      boolean objects = r.nextInt(3) == 0;
      for (int i = 0; i < depth; i++) {
        text.append(objects ? "{\"a\":" : "[");
      }
      text.append('0');
      for (int i = 0; i < depth; i++) {
        text.append(objects ? '}' : ']');
      }
      return text.toString();
    }

    String longNumber() {
      int digits = pick(r, new Integer[] {400, 1000, 1001, 2000, 2000, 100_000});
      StringBuilder text = new StringBuilder();
      switch (r.nextInt(4)) {
        case 0:
          text.append('1');
          text.append("0".repeat(digits - 1));
          break;
        case 1:
          text.append("-9");
          for (int i = 1; i < digits; i++) {
            text.append((char) ('0' + r.nextInt(10)));
          }
          break;
        case 2:
          text.append("0.");
          text.append("0".repeat(digits - 1)).append('1');
          break;
        default:
          text.append("1".repeat(digits)).append("e5");
      }
      return text.toString();
    }

    /**
     * Puts {@code raw} where a random value was: in the data, a shape dimension, the id, a name, a parameter.
     * Outside the data (where any number is fine) a structure or a number where a string or integer belongs makes
     * the request invalid; {@code rejectEverywhere} says whether the value is invalid JSON wherever it is.
     */
    byte[] slot(JsonNode root, String what, String raw, boolean rejectEverywhere) {
      ObjectNode doc = (ObjectNode) root;
      String where = placeMark(doc);
      applied.add(what + "@" + where);
      boolean invalidHere;
      switch (where) {
        case "data":
          invalidHere = false; // any number, and in BYTES any string, may be data
          break;
        case "parameter":
          invalidHere = what.equals("deep-nesting"); // a parameter is a boolean, number or string
          break;
        case "id":
          invalidHere = !what.equals("long-string"); // the id is a string
          break;
        default:
          invalidHere = true; // a shape dimension is an integer, a name the input's name
      }
      reject |= rejectEverywhere || invalidHere;
      return replace(bytes(root), ("\"" + MARK + "\"").getBytes(StandardCharsets.UTF_8),
          raw.getBytes(StandardCharsets.UTF_8));
    }

    byte[] slotRejecting(JsonNode root, String what, String raw) {
      byte[] body = slot(root, what, raw, true);
      return body;
    }

    String placeMark(ObjectNode doc) {
      java.util.Optional<ObjectNode> input = input(doc);
      int where = r.nextInt(6);
      if (input.isPresent()) {
        ObjectNode in = input.get();
        JsonNode data = in.get("data");
        JsonNode shape = in.get("shape");
        if (where <= 1 && data != null && data.isArray() && data.size() > 0) {
          ((ArrayNode) data).set(r.nextInt(data.size()), TextNode.valueOf(MARK));
          return "data";
        }
        if (where == 2 && shape != null && shape.isArray() && shape.size() > 0) {
          ((ArrayNode) shape).set(r.nextInt(shape.size()), TextNode.valueOf(MARK));
          return "shape";
        }
        if (where == 3) {
          in.put("name", MARK);
          return "name";
        }
      }
      if (where == 4) {
        ObjectNode parameters = doc.putObject("parameters");
        parameters.put(pick(r, new String[] {"priority", "binary_data_output", "custom"}), MARK);
        return "parameter";
      }
      doc.put("id", MARK);
      return "id";
    }

    byte[] inString(JsonNode root, String what, byte[] raw, boolean rejects) {
      ObjectNode doc = (ObjectNode) root;
      String where;
      int choice = r.nextInt(4);
      java.util.Optional<ObjectNode> input = input(doc);
      if (choice == 0 && input.isPresent()) {
        input.get().put("name", "x" + MARK);
        where = "name";
      } else if (choice == 1 && input.isPresent()) {
        input.get().put("datatype", "FP" + MARK + "32");
        where = "datatype";
      } else if (choice == 2) {
        doc.putObject("parameters").put("k" + MARK, 1);
        where = "key";
      } else {
        doc.put("id", "id" + MARK + "end");
        where = "id";
      }
      applied.add(what + "@" + where);
      reject |= rejects || where.equals("name") || where.equals("datatype");
      return replace(bytes(doc), MARK.getBytes(StandardCharsets.UTF_8), raw);
    }

    JsonNode withEscapes(JsonNode root) {
      if (root.isObject()) {
        ((ObjectNode) root).put("id", "t\u00e9\u4e2d\n\"\\\u0001end");
      }
      return root;
    }

    byte[] truncate(byte[] body) {
      String[] kinds = {"after-brace", "after-bracket", "after-colon", "after-comma", "in-string", "in-number",
          "before-last-brace", "in-escape", "in-utf8", "anywhere", "empty"};
      String kind = pick(r, kinds);
      applied.add("truncate-" + kind);
      reject = true;
      List<Integer> cuts = new ArrayList<>();
      boolean inString = false;
      for (int i = 0; i < body.length; i++) {
        int b = body[i] & 0xff;
        boolean escape = inString && b == '\\';
        switch (kind) {
          case "after-brace":
            if (!inString && b == '{') {
              cuts.add(i + 1);
            }
            break;
          case "after-bracket":
            if (!inString && b == '[') {
              cuts.add(i + 1);
            }
            break;
          case "after-colon":
            if (!inString && b == ':') {
              cuts.add(i + 1);
            }
            break;
          case "after-comma":
            if (!inString && b == ',') {
              cuts.add(i + 1);
            }
            break;
          case "in-string":
            if (inString && b != '"') {
              cuts.add(i);
            }
            break;
          case "in-number":
            if (!inString && (b >= '0' && b <= '9') && i + 1 < body.length
                && ((body[i + 1] >= '0' && body[i + 1] <= '9') || body[i + 1] == '.' || body[i + 1] == 'e')) {
              cuts.add(i + 1);
            }
            break;
          case "in-escape":
            if (escape) {
              cuts.add(i + 1);
            }
            break;
          case "in-utf8":
            if (b >= 0x80 && b < 0xc0) {
              cuts.add(i);
            }
            break;
          default:
            break;
        }
        if (escape) {
          i++; // skip the escaped character
          continue;
        }
        if (b == '"') {
          inString = !inString;
        }
      }
      int cut;
      if (kind.equals("empty")) {
        cut = 0;
      } else if (kind.equals("before-last-brace") || cuts.isEmpty()) {
        cut = body.length - 1;
      } else if (kind.equals("anywhere")) {
        cut = r.nextInt(body.length);
      } else {
        cut = cuts.get(r.nextInt(cuts.size()));
      }
      return Arrays.copyOf(body, Math.min(cut, body.length - 1));
    }

    byte[] duplicateKeys(byte[] body) {
      applied.add("duplicate-keys");
      String insert = pick(r, new String[] {
        "\"inputs\":[],", "\"id\":5,", "\"inputs\":{\"x\":1},", "\"outputs\":[{\"name\":\"nope\"}],", "\"id\":\"a\",",
        "\"parameters\":{},", "\"parameters\":{\"binary_data_output\":true},"});
      if (r.nextBoolean()) {
        // Inside the first input: a second name, shape or datatype before the real one.
        byte[] marker = "{\"name\":".getBytes(StandardCharsets.UTF_8);
        int at = indexOf(body, marker, 0);
        if (at >= 0) {
          String field = pick(r, new String[] {"\"name\":\"y\",", "\"shape\":[1],", "\"datatype\":\"INT8\",",
            "\"data\":[1],", "\"name\":\"x\","});
          return insert(body, at + 1, field.getBytes(StandardCharsets.UTF_8));
        }
      }
      return insert(body, 1, insert.getBytes(StandardCharsets.UTF_8));
    }

    byte[] comments(byte[] body) {
      applied.add("comment");
      reject = true;
      String comment = pick(r, new String[] {"/*c*/", "//c\n", "#c\n", "/* unterminated", "<!-- -->"});
      List<Integer> places = structural(body, ',');
      int at = places.isEmpty() ? 1 : places.get(r.nextInt(places.size())) + 1;
      return insert(body, at, comment.getBytes(StandardCharsets.UTF_8));
    }

    byte[] quoting(byte[] body) {
      applied.add("quoting");
      byte[] key = "\"inputs\"".getBytes(StandardCharsets.UTF_8);
      int at = indexOf(body, key, 0);
      if (at < 0) {
        return body;
      }
      reject = true;
      byte[] replacement = pick(r, new String[] {"'inputs'", "inputs", "\u201cinputs\u201d", "`inputs`"})
          .getBytes(StandardCharsets.UTF_8);
      byte[] out = new byte[body.length - key.length + replacement.length];
      System.arraycopy(body, 0, out, 0, at);
      System.arraycopy(replacement, 0, out, at, replacement.length);
      System.arraycopy(body, at + key.length, out, at + replacement.length, body.length - at - key.length);
      return out;
    }

    byte[] trailing(byte[] body) {
      applied.add("trailing-garbage");
      reject = true;
      byte[] garbage;
      int kind = r.nextInt(9);
      if (kind == 0) {
        garbage = body.clone(); // a second document
      } else if (kind == 1) {
        garbage = new byte[1 + r.nextInt(64)];
        r.nextBytes(garbage);
        garbage[0] = (byte) pick(r, new Integer[] {(int) 'x', (int) '}', 0, 0xff, (int) '{', (int) '"'});
      } else {
        garbage = pick(r, new String[] {"}", "]", ",", "x", "{}", "[]", "\u0000", " null", "\n\n1"})
            .getBytes(StandardCharsets.UTF_8);
      }
      byte[] out = Arrays.copyOf(body, body.length + garbage.length);
      System.arraycopy(garbage, 0, out, body.length, garbage.length);
      return out;
    }

    byte[] bom(byte[] body) {
      int kind = r.nextInt(4);
      if (kind == 0) {
        applied.add("bom-utf16");
        String text = new String(body, StandardCharsets.UTF_8);
        return text.getBytes(r.nextBoolean() ? StandardCharsets.UTF_16 : StandardCharsets.UTF_16LE);
      }
      if (kind == 1) {
        applied.add("bom-twice");
        return insert(body, 0, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, (byte) 0xef, (byte) 0xbb,
          (byte) 0xbf});
      }
      if (kind == 2) {
        applied.add("bom-inside");
        reject = true;
        List<Integer> places = structural(body, ',');
        int at = places.isEmpty() ? 1 : places.get(r.nextInt(places.size())) + 1;
        return insert(body, at, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf});
      }
      applied.add("bom");
      return insert(body, 0, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf});
    }

    byte[] whitespace(byte[] body) {
      boolean legal = r.nextInt(3) > 0;
      applied.add(legal ? "whitespace" : "illegal-whitespace");
      byte[] space = legal
          ? pick(r, new String[] {" ", "\t", "\r\n", "\n\n\n", " ".repeat(1 << 16)}).getBytes(StandardCharsets.UTF_8)
          : pick(r, new String[] {"\u00a0", "\f", "\u000b", "\u2028", "\u3000"}).getBytes(StandardCharsets.UTF_8);
      List<Integer> places = structural(body, ',');
      int at = places.isEmpty() ? 1 : places.get(r.nextInt(places.size())) + 1;
      reject |= !legal;
      return insert(body, at, space);
    }

    byte[] flips(byte[] body) {
      applied.add("byte-flips");
      byte[] out = body.clone();
      int jsonEnd = Math.min(out.length, 600);
      for (int k = 1 + r.nextInt(4); k > 0; k--) {
        out[r.nextInt(jsonEnd)] = (byte) (32 + r.nextInt(95));
      }
      return out;
    }

    /** Positions of {@code c} outside strings. */
    List<Integer> structural(byte[] body, char c) {
      List<Integer> places = new ArrayList<>();
      boolean inString = false;
      for (int i = 0; i < body.length && places.size() < 10_000; i++) {
        if (inString && body[i] == '\\') {
          i++;
          continue;
        }
        if (body[i] == '"') {
          inString = !inString;
        } else if (!inString && body[i] == c) {
          places.add(i);
        }
      }
      return places;
    }
  }

  /** Whether a {@link #routeVariant} may name the model's infer endpoint after all (version 1, a query, a slash). */
  static boolean mayBeValidRoute(String path, Target target) {
    return path.equals("/v2/models/" + target.model + "/versions/1/infer") || path.endsWith("/infer/")
        || path.contains("?");
  }

  static String routeVariant(Random r, Target target) {
    return pick(r, new String[] {
      "/v2/models/nope/infer", "/v2/models/" + target.model + "/versions/1/infer",
      "/v2/models/" + target.model + "/versions/0/infer", "/v2/models/" + target.model + "/versions/-1/infer",
      "/v2/models/" + target.model + "/versions/99999999999999999999/infer",
      "/v2/models/" + target.model + "/versions/1.0/infer", "/v2/models/" + target.model + "/versions/%20/infer",
      "/v2/models/" + target.model + "/versions/%00/infer", "/v2/models/%2e%2e/infer", "/v2/models//infer",
      "/v2/models/" + target.model + "/infer/", "/v2/models/" + target.model + "%00/infer",
      "/v2/models/" + "m".repeat(2000) + "/infer", "/v2/models/" + target.model + "/versions/1/infer?x=%zz",
      "/v2/models/%F0%9F%98%80/infer", "/v2/models/" + target.model.toUpperCase(java.util.Locale.ROOT) + "/infer"});
  }

  // ---------------------------------------------------------------------------------------------------------
  // Binary tensor framing
  // ---------------------------------------------------------------------------------------------------------

  private FuzzCase binaryCase(int index, Target target, Random r) {
    long[] shape = target.shape(target.batch(r));
    int count = (int) elementCount(shape);
    byte[] data = floats(count, r);
    String datatype = "FP32";
    List<String> applied = new ArrayList<>();
    boolean reject = false;
    long declared = data.length;
    Object declaredParam = declared;
    String shapeJson = json(shape);
    String extraInput = "";
    int kind = r.nextInt(13);
    switch (kind) {
      case 0:
        applied.add("binary_data_size-off");
        declaredParam = declared + pick(r, new Long[] {-4L, -1L, 1L, 3L, 4L, (long) data.length, -(long) data.length});
        reject = true;
        break;
      case 1:
        applied.add("binary_data_size-odd");
        declaredParam = pick(r, new Object[] {
          -1, 0, Integer.MAX_VALUE, Long.MAX_VALUE, 1L << 31, 1.5, (double) declared, "\"" + declared + "\"", true,
          null, "[" + declared + "]", "{}", "18446744073709551616", "1e3", "-0"});
        reject = !(declaredParam instanceof Double && (Double) declaredParam == declared);
        break;
      case 2:
        applied.add("block-short");
        data = Arrays.copyOf(data, Math.max(0, data.length - 1 - r.nextInt(Math.max(1, Math.min(64, data.length)))));
        reject = true;
        break;
      case 3:
        applied.add("block-long");
        data = Arrays.copyOf(data, data.length + 1 + r.nextInt(64));
        reject = true;
        break;
      case 4:
        applied.add("consistent-wrong-size");
        // binary_data_size matches the block, the block does not match the shape.
        data = Arrays.copyOf(data, Math.max(0, data.length + pick(r, new Integer[] {-4, -1, 1, 4, 8})));
        declaredParam = (long) data.length;
        reject = true;
        break;
      case 5:
        applied.add("bytes-tensor");
        BytesBlock block = bytesBlock(r);
        datatype = "BYTES";
        data = block.data;
        shapeJson = "[" + block.elements + "]";
        if (r.nextInt(5) == 0) {
          shapeJson = pick(r, new String[] {"[1099511627776]", "[0]", "[" + (block.elements + 1) + "]", "[]",
            "[2147483648,2]"});
        }
        declaredParam = (long) data.length;
        applied.add(block.what);
        reject = true; // no model takes BYTES
        break;
      case 6:
        applied.add("half-types");
        datatype = pick(r, new String[] {"FP16", "BF16"});
        data = Arrays.copyOf(data, data.length / 2);
        declaredParam = (long) data.length;
        reject = true;
        break;
      case 7:
        applied.add("two-inputs");
        byte[] second = new byte[4 * (1 + r.nextInt(8))];
        extraInput = ",{\"name\":\"" + pick(r, new String[] {"y", "x"}) + "\",\"shape\":[" + (second.length / 4)
            + "],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":"
            + (r.nextBoolean() ? second.length : second.length + 4) + "}}";
        data = concat(data, second);
        reject = true;
        break;
      case 8:
        applied.add("shape-mismatch");
        shapeJson = pick(r, new String[] {"[1]", "[]", "[0," + target.dims[0] + "]", "[-1," + target.dims[0] + "]",
          "[4611686018427387904,4]", "[9223372036854775807]", "[1,2,3,4,5,6,7,8,9]", "[\"1\"]", "[1.5]", "null"});
        reject = true;
        break;
      case 9:
        applied.add("data-and-binary");
        extraInput = "";
        reject = true;
        break;
      case 10: {
        // Random bytes with a random header length, as a broken client or a port scanner sends.
        byte[] garbage = new byte[r.nextInt(4096)];
        r.nextBytes(garbage);
        int length = r.nextInt(garbage.length + 20) - 10;
        FuzzCase.Builder builder = FuzzCase.builder(seed, index, Channel.HTTP, "binary/garbage-body")
            .path(target.inferPath())
            .body(garbage)
            .http1(r.nextInt(4) == 0)
            .header("inference-header-content-length", Integer.toString(length));
        // With a header length of 0 the whole body is the raw data of the only input: 16 random bytes are a
        // valid affine request.
        return (length == 0 ? builder : builder.reject()).build();
      }
      default:
        applied.add("valid-framing");
    }
    String dataField = kind == 9 ? ",\"data\":[0]" : "";
    String parameters = "{\"binary_data_size\":" + declaredParam + "}";
    String outputs = r.nextBoolean() ? "" : ",\"outputs\":[{\"name\":\"" + target.output
        + "\",\"parameters\":{\"binary_data\":" + r.nextBoolean() + "}}]";
    String requestParameters = r.nextInt(4) == 0 ? ",\"parameters\":{\"binary_data_output\":" + r.nextBoolean() + "}" : "";
    String header = "{\"id\":\"b" + index + "\",\"inputs\":[{\"name\":\"" + target.input + "\",\"shape\":" + shapeJson
        + ",\"datatype\":\"" + datatype + "\",\"parameters\":" + parameters + dataField + "}" + extraInput + "]"
        + outputs + requestParameters + "}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    byte[] body = concat(json, data);
    String headerLength = Integer.toString(json.length);
    // The Inference-Header-Content-Length header.
    int lengthKind = r.nextInt(10);
    boolean sendLength = true;
    switch (lengthKind) {
      case 0:
        applied.add("length-missing");
        sendLength = false;
        reject |= data.length > 0;
        break;
      case 1:
        applied.add("length-negative");
        headerLength = pick(r, new String[] {"-1", "-" + json.length, "-9223372036854775808"});
        reject = true;
        break;
      case 2:
        applied.add("length-too-large");
        headerLength = pick(r, new String[] {Integer.toString(body.length + 1), "2147483648", "9223372036854775807",
          "99999999999999999999", Integer.toString(json.length + 1 + r.nextInt(4))});
        reject = true;
        break;
      case 3:
        applied.add("length-non-numeric");
        headerLength = pick(r, new String[] {"abc", "", "0x1f", "1e3", json.length + "abc", "1.5", "NaN", "+", "--1",
          json.length + " " + json.length, "\u00bd"});
        reject = true;
        break;
      case 4:
        applied.add("length-short");
        headerLength = Integer.toString(Math.max(1, json.length - 1 - r.nextInt(Math.min(json.length - 1, 20))));
        reject = true;
        break;
      case 5:
        applied.add("length-zero");
        headerLength = "0";
        long raw = 4L * elementCount(target.shape(1));
        if (r.nextBoolean()) {
          body = new byte[(int) raw];
          applied.add("raw-exact");
          reject = target == Target.DYNAMIC; // open dimensions: a raw body cannot say its shape
        } else {
          int size = pick(r, new Integer[] {0, 1, 3, (int) raw - 1, (int) raw + 1, (int) raw * 2, 7});
          body = new byte[Math.max(0, size)];
          r.nextBytes(body);
          reject = true;
        }
        break;
      case 6:
        applied.add("length-padded");
        headerLength = pick(r, new String[] {" " + json.length, json.length + " ", "+" + json.length,
          "0" + json.length});
        break;
      case 7:
        applied.add("length-twice");
        break;
      default:
        break;
    }
    FuzzCase.Builder builder = FuzzCase.builder(seed, index, Channel.HTTP, "binary/" + String.join("+", applied))
        .path(target.inferPath())
        .body(body)
        .http1(r.nextInt(4) == 0);
    if (sendLength) {
      builder.header("inference-header-content-length", headerLength);
    }
    if (lengthKind == 7) {
      builder.header("inference-header-content-length", Integer.toString(r.nextInt(json.length + 1)));
    }
    if (r.nextBoolean()) {
      builder.header("content-type", pick(r, new String[] {"application/octet-stream", "application/json",
        "application/vnd.sagemaker-triton.binary+json;json-header-size=" + json.length}));
    }
    if (reject) {
      builder.reject();
    }
    return builder.build();
  }

  /** A BYTES tensor block: length-prefixed elements, maybe with a bad prefix. */
  private static final class BytesBlock {
    final byte[] data;
    final int elements;
    final String what;

    BytesBlock(byte[] data, int elements, String what) {
      this.data = data;
      this.elements = elements;
      this.what = what;
    }
  }

  private static BytesBlock bytesBlock(Random r) {
    int elements = 1 + r.nextInt(4);
    ByteBuffer buffer = ByteBuffer.allocate(elements * 64 + 64).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < elements; i++) {
      byte[] value = new byte[r.nextInt(20)];
      r.nextBytes(value);
      buffer.putInt(value.length).put(value);
    }
    String what = "bytes-valid";
    switch (r.nextInt(6)) {
      case 0:
        what = "bytes-prefix-negative";
        buffer.putInt(-1 - r.nextInt(1000)).put(new byte[4]);
        elements++;
        break;
      case 1:
        what = "bytes-prefix-too-long";
        buffer.putInt(1000 + r.nextInt(1 << 20)).put(new byte[8]);
        elements++;
        break;
      case 2:
        what = "bytes-prefix-truncated";
        buffer.put(new byte[1 + r.nextInt(3)]);
        elements++;
        break;
      case 3:
        what = "bytes-count-mismatch";
        buffer.putInt(0);
        break;
      case 4:
        what = "bytes-prefix-max";
        buffer.putInt(Integer.MAX_VALUE).put(new byte[3]);
        elements++;
        break;
      default:
        break;
    }
    buffer.flip();
    byte[] data = new byte[buffer.remaining()];
    buffer.get(data);
    return new BytesBlock(data, elements, what);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Headers, encodings and routes
  // ---------------------------------------------------------------------------------------------------------

  private FuzzCase headerCase(int index, Target target, Random r) {
    // The image models' JSON is ~100 KB; the affine model keeps this family fast.
    Target t = r.nextInt(4) == 0 ? target : Target.AFFINE;
    byte[] json = bytes(validJson(t, t.shape(t.batch(r)), r, "h" + index));
    FuzzCase.Builder builder = FuzzCase.builder(seed, index, Channel.HTTP, "headers")
        .path(t.inferPath())
        .http1(r.nextInt(3) == 0);
    List<String> applied = new ArrayList<>();
    boolean reject = false;
    byte[] body = json;
    switch (r.nextInt(12)) {
      case 0:
      case 1: {
        String encoding = r.nextBoolean() ? "gzip" : "deflate";
        byte[] compressed = compress(json, encoding);
        int mode = r.nextInt(6);
        if (mode == 0) {
          applied.add(encoding + "-valid");
        } else if (mode == 1) {
          applied.add(encoding + "-corrupt");
          int from = encoding.equals("gzip") ? 10 : 2;
          java.util.Set<Integer> positions = new java.util.TreeSet<>();
          for (int k = 1 + r.nextInt(3); positions.size() < k; ) {
            positions.add(from + r.nextInt(compressed.length - from));
          }
          for (int at : positions) {
            compressed[at] ^= (byte) 0xff; // distinct bytes: two flips of one byte would cancel out
          }
          reject = true;
        } else if (mode == 2) {
          applied.add(encoding + "-truncated");
          compressed = Arrays.copyOf(compressed, r.nextInt(compressed.length));
          reject = true;
        } else if (mode == 3) {
          applied.add(encoding + "-bomb");
          byte[] zeros = new byte[MAX_REQUEST_BYTES + 1 + r.nextInt(3 * MAX_REQUEST_BYTES)];
          if (r.nextBoolean()) {
            Arrays.fill(zeros, (byte) ' ');
          }
          compressed = compress(zeros, encoding);
          reject = true;
        } else if (mode == 4) {
          applied.add(encoding + "-garbage");
          compressed = new byte[r.nextInt(2048)];
          r.nextBytes(compressed);
          reject = true;
        } else {
          applied.add(encoding + "-twice");
          compressed = compress(compressed, encoding);
          reject = true;
        }
        String header = encoding;
        if (r.nextInt(4) == 0) {
          header = pick(r, new String[] {encoding.toUpperCase(java.util.Locale.ROOT), " " + encoding + " ",
            encoding.equals("gzip") ? "x-gzip" : "deflate"});
        }
        builder.header("content-encoding", header);
        body = compressed;
        break;
      }
      case 2: {
        applied.add("unknown-encoding");
        String encoding = pick(r, new String[] {"br", "zstd", "compress", "snappy", "gzip;q=1", "x-deflate",
          "gzip, deflate", "deflate, gzip", "gzip gzip", "*", "identity, gzip", "\u00e9", "g zip",
          "a".repeat(4000)});
        builder.header("content-encoding", encoding);
        reject = true;
        break;
      }
      case 3: {
        String value;
        if (r.nextInt(3) == 0) {
          applied.add("timeout-short");
          value = Integer.toString(1 + r.nextInt(200));
          builder.shortDeadline();
        } else {
          applied.add("timeout-garbage");
          value = pick(r, new String[] {"abc", "-1", "0", "", "1e6", "1.5", "99999999999999999999",
            "9223372036854775807", "0x10", " ", "-0", "+-1", "1 000", "9223372036854776", "NaN", "\u00bd"});
          reject = true;
        }
        builder.header("serval-timeout-us", value);
        break;
      }
      case 4: {
        applied.add("huge-header");
        int size = pick(r, new Integer[] {4_000, 7_000, 9_000, 20_000, 100_000, 1 << 20});
        String name = pick(r, new String[] {"x-fuzz-pad", "inference-header-content-length", "content-type",
          "serval-timeout-us", "content-encoding"});
        String value = name.equals("inference-header-content-length") || name.equals("serval-timeout-us")
            ? "9".repeat(size) : "a".repeat(size);
        builder.header(name, value);
        if (size > 7_000) {
          builder.oversizedHeaders();
        }
        reject = !name.equals("x-fuzz-pad") && !name.equals("content-type");
        break;
      }
      case 5: {
        applied.add("many-headers");
        int count = pick(r, new Integer[] {50, 300, 2000});
        for (int i = 0; i < count; i++) {
          builder.header("x-fuzz-" + i, "v" + i);
        }
        if (count >= 300) { // HTTP/2 counts 32 bytes a header on top of name and value
          builder.oversizedHeaders();
        }
        break;
      }
      case 6: {
        applied.add("content-type");
        builder.header("content-type", pick(r, new String[] {"text/plain", "application/xml",
          "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "garbage;;;", "application/json; charset=utf-16",
          "application/json; charset=nope", "*/*", "application/grpc", "application/protobuf", ""}));
        break;
      }
      case 7: {
        applied.add("accept");
        String name = pick(r, new String[] {"accept-encoding", "accept", "te", "expect"});
        String value = pick(r, new String[] {"gzip;q=abc", "*;q=-1", "br", "identity;q=0, *;q=0", "\u00e9",
          "100-continue", "trailers", "gzip, deflate, br, zstd", "text/html"});
        builder.header(name, value);
        if (name.equals("te") && !value.equals("trailers")) {
          builder.mayReset(); // HTTP/2 allows no TE value but "trailers": a malformed request, a stream error
        }
        break;
      }
      case 8: {
        applied.add("method");
        String method = pick(r, new String[] {"GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"});
        builder.method(method);
        if (method.equals("GET") || method.equals("TRACE")) {
          body = new byte[0];
        }
        reject = !method.equals("OPTIONS");
        break;
      }
      case 9: {
        applied.add("route");
        String path = routeVariant(r, t);
        builder.path(path);
        reject = !mayBeValidRoute(path, t);
        break;
      }
      case 10: {
        applied.add("other-endpoints");
        String[] paths = {"/v2/models/" + t.model + "/versions/abc", "/v2/models/nope/ready", "/v2/models/nope/config",
          "/v2/models/" + t.model + "/versions/99999999999999999999/stats", "/v2/repository/index",
          "/v2/repository/models/" + t.model + "/load", "/v2/repository/models/" + t.model + "/unload", "/v2/nope",
          "/v2/models/" + t.model + "/versions/0/ready", "/v2/models/%00"};
        String path = pick(r, paths);
        builder.path(path);
        if (path.startsWith("/v2/repository")) {
          reject = !path.equals("/v2/repository/index");
          body = pick(r, new String[] {"", "{}", "[]", "{\"ready\":\"yes\"}", "{", "null", "{\"ready\":true}",
            "\u00ff\u00fe"}).getBytes(StandardCharsets.ISO_8859_1);
        } else {
          builder.method("GET");
          body = new byte[0];
          reject = true; // every one names a missing model, version or endpoint
        }
        break;
      }
      default: {
        applied.add("padded-body");
        // Valid JSON padded past the body limit: 413, not an out-of-memory.
        int pad = pick(r, new Integer[] {1 << 20, MAX_REQUEST_BYTES - json.length + 1, MAX_REQUEST_BYTES + (1 << 20)});
        byte[] padded = Arrays.copyOf(json, json.length + pad);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        body = padded;
        reject = padded.length > MAX_REQUEST_BYTES;
      }
    }
    builder.category("headers/" + String.join("+", applied)).body(body);
    if (reject) {
      builder.reject();
    }
    return builder.build();
  }

  // ---------------------------------------------------------------------------------------------------------
  // gRPC messages through the generated stub
  // ---------------------------------------------------------------------------------------------------------

  /** A valid ModelInferRequest: raw contents (zeros) or typed fp32 contents. */
  static ModelInferRequest.Builder validGrpc(Target target, long[] shape, boolean typed, Random r) {
    ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
        .setName(target.input).setDatatype("FP32");
    for (long dim : shape) {
      input.addShape(dim);
    }
    int count = (int) elementCount(shape);
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(target.model);
    if (typed) {
      InferTensorContents.Builder contents = InferTensorContents.newBuilder();
      for (int i = 0; i < count; i++) {
        contents.addFp32Contents(r.nextInt(32) == 0 ? (float) r.nextGaussian() : 0f);
      }
      input.setContents(contents);
      request.addInputs(input);
    } else {
      request.addInputs(input).addRawInputContents(ByteString.copyFrom(floats(count, r)));
    }
    if (r.nextBoolean()) {
      ModelInferRequest.InferRequestedOutputTensor.Builder output =
          ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(target.output);
      if (r.nextInt(3) == 0) {
        output.putParameters("classification", InferParameter.newBuilder().setInt64Param(1 + r.nextInt(2)).build());
      }
      request.addOutputs(output);
    }
    return request;
  }

  private FuzzCase grpcStubCase(int index, Target target, Random r) {
    Target t = r.nextInt(3) == 0 ? target : Target.AFFINE;
    boolean typed = r.nextInt(3) == 0;
    ModelInferRequest.Builder request = validGrpc(t, t.shape(t.batch(r)), typed, r).setId("g" + index);
    List<String> applied = new ArrayList<>();
    boolean reject = false;
    int mutations = r.nextInt(8) == 0 ? 0 : 1 + (r.nextInt(4) == 0 ? 1 + r.nextInt(2) : 0);
    for (int m = 0; m < mutations; m++) {
      boolean alone = mutations == 1;
      ModelInferRequest.InferInputTensor.Builder input =
          request.getInputsCount() > 0 ? request.getInputsBuilder(0) : null;
      switch (r.nextInt(14)) {
        case 0:
          applied.add("datatype");
          if (input != null) {
            input.setDatatype(pick(r, new String[] {"FP64", "INT8", "UINT64", "BYTES", "FP16", "BF16", "fp32", "",
              "FLOAT", "FP32 ", "BOOL", "INT64", "\u0000", "F".repeat(10_000)}));
          }
          break;
        case 1:
          applied.add("shape");
          if (input != null) {
            input.clearShape();
            for (int d = r.nextInt(9); d > 0; d--) {
              input.addShape(pick(r, new Long[] {-1L, 0L, 1L, 2L, 3L, 4L, 48L, 192L, 1L << 31, 1L << 40,
                Long.MAX_VALUE, Long.MIN_VALUE, (long) r.nextInt(300)}));
            }
          }
          break;
        case 2:
          applied.add("huge-shape");
          if (input != null) {
            input.clearShape();
            long[][] shapes = {{1L << 31, 1L << 31}, {Long.MAX_VALUE}, {1L << 62}, {1L << 61}, {1L << 32, 4},
              {8, 3, 48, 1L << 40}, {4611686018427387904L, 2}, {3037000500L, 3037000500L}, {1, 3, 48, 192, 1L << 50}};
            for (long dim : pick(r, shapes)) {
              input.addShape(dim);
            }
            reject |= alone;
          }
          break;
        case 3:
          applied.add("raw-count");
          if (request.getRawInputContentsCount() > 0 || r.nextBoolean()) {
            int count = pick(r, new Integer[] {0, 2, 3, 100});
            List<ByteString> raw = new ArrayList<>(request.getRawInputContentsList());
            request.clearRawInputContents();
            for (int i = 0; i < count; i++) {
              request.addRawInputContents(raw.isEmpty() ? ByteString.EMPTY : raw.get(0));
            }
            reject |= alone && count > 1;
          }
          break;
        case 4:
          applied.add("raw-length");
          if (request.getRawInputContentsCount() > 0) {
            ByteString raw = request.getRawInputContents(0);
            int delta = pick(r, new Integer[] {-4, -1, 1, 3, 4, 1024, -raw.size()});
            byte[] resized = Arrays.copyOf(raw.toByteArray(), Math.max(0, raw.size() + delta));
            request.setRawInputContents(0, ByteString.copyFrom(resized));
            reject |= alone;
          }
          break;
        case 5:
          applied.add("typed-wrong-kind");
          if (input != null) {
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            int n = (int) Math.min(1 << 16, elementCount(t.shape(1)));
            switch (r.nextInt(8)) {
              case 0:
                for (int i = 0; i < n; i++) {
                  contents.addIntContents(i);
                }
                break;
              case 1:
                for (int i = 0; i < n; i++) {
                  contents.addFp64Contents(i);
                }
                break;
              case 2:
                for (int i = 0; i < Math.min(n, 100); i++) {
                  contents.addBytesContents(ByteString.copyFromUtf8("s" + i));
                }
                break;
              case 3:
                for (int i = 0; i < n; i++) {
                  contents.addBoolContents(i % 2 == 0);
                }
                break;
              case 4:
                contents.addFp32Contents(1f).addIntContents(1);
                break;
              case 5:
                for (int i = 0; i < n; i++) {
                  contents.addUint64Contents(-1L);
                }
                break;
              case 6:
                for (int i = 0; i < n; i++) {
                  contents.addFp32Contents(Float.NaN);
                }
                break;
              default:
                contents.addFp32Contents(1f);
            }
            input.setContents(contents);
          }
          break;
        case 6:
          applied.add("parameters");
          InferParameter value = grpcParameter(r);
          String key = pick(r, new String[] {"classification", "priority", "timeout", "binary_data_size",
            "shared_memory_region", "binary_data", "sequence_id", "", randomText(r, 10)});
          int where = r.nextInt(3);
          if (where == 0) {
            request.putParameters(key, value);
          } else if (where == 1 && input != null) {
            input.putParameters(key, value);
          } else {
            if (request.getOutputsCount() == 0) {
              request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(t.output));
            }
            request.getOutputsBuilder(0).putParameters(key, value);
          }
          break;
        case 7:
          applied.add("model");
          if (r.nextBoolean()) {
            request.setModelName(pick(r, new String[] {"", "nope", "../" + t.model, t.model + " ",
              t.model.toUpperCase(java.util.Locale.ROOT), "m".repeat(100_000), "\u0000", "\ud83d\ude00"}));
          } else {
            request.setModelVersion(pick(r, new String[] {"-1", "0", "2", "1 ", "x1", "99999999999999999999", "1.0",
              "\u0661", "+1", "01"}));
          }
          break;
        case 8:
          applied.add("inputs");
          switch (r.nextInt(4)) {
            case 0:
              request.clearInputs();
              reject |= alone;
              break;
            case 1:
              if (input != null) {
                request.addInputs(input.build());
                request.addAllRawInputContents(new ArrayList<>(request.getRawInputContentsList()));
                reject |= alone;
              }
              break;
            case 2:
              if (input != null) {
                input.setName(pick(r, new String[] {"", "y", "X", "x\u0000", "\u00e9".repeat(5000)}));
                reject |= alone;
              }
              break;
            default:
              for (int i = 0; i < 1 + r.nextInt(1000); i++) {
                request.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("in" + i));
              }
              reject |= alone;
          }
          break;
        case 9:
          applied.add("outputs");
          request.clearOutputs();
          switch (r.nextInt(3)) {
            case 0:
              request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("nope"));
              break;
            case 1:
              request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(t.output));
              request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(t.output));
              break;
            default:
              request.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(""));
          }
          reject |= alone;
          break;
        case 10:
          applied.add("raw-and-typed");
          if (input != null) {
            input.setContents(InferTensorContents.newBuilder().addFp32Contents(1f));
            if (request.getRawInputContentsCount() == 0) {
              request.addRawInputContents(ByteString.copyFrom(new byte[16]));
            }
            reject |= alone;
          }
          break;
        case 11:
          applied.add("id");
          request.setId(pick(r, new String[] {"", "\u0000", "\ud83d\ude00", "i".repeat(1 << 20)}));
          break;
        case 12:
          applied.add("deadline");
          break;
        default:
          applied.add("dynamic-dims");
          // The model served without a config takes any height and width: try tiny, empty and odd images.
          request.setModelName(Target.DYNAMIC.model).clearInputs().clearRawInputContents().clearOutputs();
          long[] shape = {1, 3, pick(r, new Long[] {0L, 1L, 2L, 7L, 8L, 31L, 32L, 33L}),
            pick(r, new Long[] {0L, 1L, 2L, 3L, 16L, 100L, 1000L})};
          ModelInferRequest.InferInputTensor.Builder dynamic = ModelInferRequest.InferInputTensor.newBuilder()
              .setName("x").setDatatype("FP32");
          for (long dim : shape) {
            dynamic.addShape(dim);
          }
          request.addInputs(dynamic).addRawInputContents(ByteString.copyFrom(new byte[(int) (4 * elementCount(shape))]));
      }
    }
    long deadline = 0;
    if (applied.contains("deadline")) {
      deadline = pick(r, new Long[] {1L, 10L, 100L, 1000L});
    }
    FuzzCase.Builder builder = FuzzCase.builder(seed, index, Channel.GRPC_STUB,
        "grpc-stub/" + (applied.isEmpty() ? "valid" : String.join("+", applied)))
        .message(request.build())
        .deadlineMicros(deadline);
    if (deadline > 0 || request.containsParameters("timeout")) {
      builder.shortDeadline();
    }
    if (reject) {
      builder.reject();
    }
    return builder.build();
  }

  private static InferParameter grpcParameter(Random r) {
    switch (r.nextInt(10)) {
      case 0:
        return InferParameter.getDefaultInstance(); // no value set
      case 1:
        return InferParameter.newBuilder().setBoolParam(r.nextBoolean()).build();
      case 2:
        return InferParameter.newBuilder().setInt64Param(pick(r, new Long[] {-1L, 0L, 1L, 2L, 1000L,
          Long.MAX_VALUE, Long.MIN_VALUE, 1L << 31})).build();
      case 3:
        return InferParameter.newBuilder().setUint64Param(pick(r, new Long[] {-1L, 0L, 1L, Long.MIN_VALUE})).build();
      case 4:
        return InferParameter.newBuilder().setDoubleParam(pick(r, new Double[] {Double.NaN, 1.5, -0.0,
          Double.POSITIVE_INFINITY, 1e300})).build();
      case 5:
        return InferParameter.newBuilder().setStringParam(pick(r, new String[] {"", "1", "true", "\u0000",
          "s".repeat(10_000)})).build();
      default:
        return InferParameter.newBuilder().setInt64Param(r.nextInt(5)).build();
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Raw gRPC bytes
  // ---------------------------------------------------------------------------------------------------------

  private FuzzCase grpcRawCase(int index, Target target, Random r) {
    Target t = r.nextInt(6) == 0 ? target : Target.AFFINE;
    byte[] valid = validGrpc(t, t.shape(t.batch(r)), r.nextInt(4) == 0, r).setId("raw" + index).build().toByteArray();
    List<String> applied = new ArrayList<>();
    boolean reject = false;
    byte[] payload = valid;
    if (r.nextInt(6) > 0) {
      payload = mutateProto(valid, r, applied);
    } else {
      applied.add("proto-valid");
    }
    boolean framed = r.nextInt(4) > 0;
    FuzzCase.Builder builder = FuzzCase.builder(seed, index, Channel.GRPC_RAW, "grpc-raw")
        .path(GRPC_INFER)
        .framed(framed);
    if (r.nextInt(12) == 0) {
      builder.path(pick(r, new String[] {"/inference.GRPCInferenceService/Nope", "/inference.Nope/ModelInfer",
        "/inference.GRPCInferenceService/ModelStreamInfer", "/inference.GRPCInferenceService/ModelMetadata",
        "/inference.GRPCInferenceService/ServerLive", "/inference.GRPCInferenceService/",
        "/grpc.health.v1.Health/Check"}));
      applied.add("method");
    }
    if (framed) {
      String contentType = "application/grpc";
      if (r.nextInt(5) == 0) {
        contentType = pick(r, new String[] {"application/grpc+proto", "application/grpc+json", "application/grpc-web",
          "application/grpc+nope", "application/grpcx", "application/grpc; charset=utf-8"});
        applied.add("content-type");
        if (contentType.equals("application/grpc+json")) {
          payload = grpcJson(t, r, applied);
        }
      }
      builder.header("content-type", contentType).header("te", "trailers");
      int flag = 0;
      long declared = payload.length;
      boolean gzip = false;
      switch (r.nextInt(10)) {
        case 0:
          applied.add("frame-flag");
          flag = pick(r, new Integer[] {1, 2, 0x80, 0xff});
          break;
        case 1:
          applied.add("frame-length");
          declared = pick(r, new Long[] {declared - 1, declared + 1, 0L, 0x7fffffffL, 0xffffffffL,
            (long) FuzzGenerator.MAX_REQUEST_BYTES + 1, declared + 5});
          reject = true;
          break;
        case 2:
          applied.add("frame-cut");
          builder.body(Arrays.copyOf(frame(flag, declared, payload), r.nextInt(5)));
          reject = true;
          break;
        case 3:
          applied.add("grpc-encoding");
          String encoding = pick(r, new String[] {"gzip", "gzip", "br", "snappy", "identity", "deflate"});
          builder.header("grpc-encoding", encoding);
          if (encoding.equals("gzip") || encoding.equals("deflate")) {
            flag = 1;
            payload = r.nextBoolean() ? compress(payload, encoding) : mutateBytes(compress(payload, encoding), r);
            declared = payload.length;
          } else if (!encoding.equals("identity")) {
            flag = 1;
          }
          gzip = true;
          break;
        case 4:
          applied.add("grpc-timeout");
          String timeout = pick(r, new String[] {"1x", "-1S", "99999999999999999999H", "1n", "10u", "S", "",
            "1000000000m", "1.5S", "abc"});
          builder.header("grpc-timeout", timeout);
          builder.shortDeadline();
          break;
        case 5:
          applied.add("two-frames");
          builder.body(concat(frame(0, payload.length, payload), frame(0, payload.length, payload)));
          // A unary call carries one message; Armeria's unary deframer answers from the first and ignores the
          // rest, which harms no one (FuzzFindingsTest pins it).
          reject = false;
          break;
        case 6:
          applied.add("huge-metadata");
          builder.header("x-fuzz-pad", "p".repeat(pick(r, new Integer[] {9_000, 100_000})));
          builder.oversizedHeaders();
          break;
        default:
          break;
      }
      if (!applied.contains("frame-cut") && !applied.contains("two-frames")) {
        builder.body(frame(flag, declared, payload));
      }
      if (!gzip && flag == 1 && r.nextBoolean()) {
        builder.header("grpc-encoding", "identity");
      }
    } else {
      String contentType = pick(r, new String[] {"application/protobuf", "application/x-protobuf",
        "application/protobuf", "application/json", "text/plain", "application/octet-stream"});
      builder.header("content-type", contentType);
      applied.add("unframed");
      if (contentType.equals("application/json")) {
        payload = grpcJson(t, r, applied);
      }
      builder.body(payload);
      builder.http1(r.nextInt(3) == 0);
    }
    builder.category("grpc-raw/" + String.join("+", applied));
    if (applied.contains("method")) {
      // Another method: ModelStreamInfer answers errors inside an OK stream, the others ignore the payload.
      reject = false;
    }
    if (reject) {
      builder.reject();
    }
    return builder.build();
  }

  /** A ModelInferRequest as protobuf JSON, sometimes mutated. */
  private static byte[] grpcJson(Target t, Random r, List<String> applied) {
    ModelInferRequest request = validGrpc(t, t.shape(1), true, r).build();
    String json;
    try {
      json = JsonFormat.printer().omittingInsignificantWhitespace().print(request);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    switch (r.nextInt(5)) {
      case 0:
        applied.add("json-valid");
        return bytes;
      case 1:
        applied.add("json-truncated");
        return Arrays.copyOf(bytes, r.nextInt(bytes.length));
      case 2:
        applied.add("json-wrong-type");
        return json.replaceFirst("\"modelName\":\"[^\"]*\"", pick(r, new String[] {"\"modelName\":1",
          "\"modelName\":[]", "\"modelName\":{}", "\"modelName\":null"})).getBytes(StandardCharsets.UTF_8);
      case 3:
        applied.add("json-unknown-field");
        return json.replaceFirst("\\{", "{\"nope\":1,").getBytes(StandardCharsets.UTF_8);
      default:
        applied.add("json-flips");
        return mutateBytes(bytes, r);
    }
  }

  /** A mutation of serialized protobuf: bit flips, truncation, bad tags, lengths, varints and nesting. */
  private static byte[] mutateProto(byte[] valid, Random r, List<String> applied) {
    switch (r.nextInt(13)) {
      case 0:
        applied.add("proto-flips");
        return mutateBytes(valid, r);
      case 1:
        applied.add("proto-truncated");
        return Arrays.copyOf(valid, r.nextInt(valid.length));
      case 2: {
        applied.add("proto-inserted");
        byte[] junk = new byte[1 + r.nextInt(32)];
        r.nextBytes(junk);
        return insert(valid, r.nextInt(valid.length + 1), junk);
      }
      case 3: {
        applied.add("proto-random");
        byte[] junk = new byte[r.nextInt(4096)];
        r.nextBytes(junk);
        return junk;
      }
      case 4: {
        applied.add("proto-wire-type");
        int field = 1 + r.nextInt(7);
        int wire = pick(r, new Integer[] {0, 1, 2, 3, 4, 5, 6, 7});
        byte[] tag = {(byte) ((field << 3) | wire), 1, 2, 3, 4, 5, 6, 7, 8};
        return r.nextBoolean() ? concat(tag, valid) : concat(valid, tag);
      }
      case 5:
        applied.add("proto-overlong-length");
        return concat(valid, new byte[] {0x2a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 1, 2, 3});
      case 6:
        applied.add("proto-bad-varint");
        return concat(valid, new byte[] {0x18, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
          (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01});
      case 7: {
        applied.add("proto-deep-groups");
        int depth = pick(r, new Integer[] {50, 99, 100, 101, 1000, 100_000});
        byte[] groups = new byte[depth * 2];
        Arrays.fill(groups, 0, depth, (byte) 0x4b); // field 9, start group
        Arrays.fill(groups, depth, depth * 2, (byte) 0x4c); // field 9, end group
        return concat(valid, r.nextBoolean() ? groups : Arrays.copyOf(groups, depth));
      }
      case 8: {
        applied.add("proto-deep-messages");
        // inputs (field 5) nested inside contents (field 5 of the input) as unknown fields, deeper and deeper.
        int depth = pick(r, new Integer[] {10, 100, 101, 1000});
        byte[] inner = {0x0a, 0x01, 'x'};
        for (int i = 0; i < depth; i++) {
          inner = concat(concat(new byte[] {0x2a}, varint(inner.length)), inner);
        }
        return concat(valid, inner);
      }
      case 9:
        applied.add("proto-stray-end-group");
        return concat(valid, new byte[] {0x0c});
      case 10:
        applied.add("proto-field-zero");
        return concat(new byte[] {0x00, 0x01}, valid);
      case 11: {
        applied.add("proto-invalid-utf8");
        // model_name (field 1) with bytes that are not UTF-8.
        byte[] name = {0x0a, 0x03, (byte) 0xff, (byte) 0xfe, (byte) 0xc0};
        return concat(valid, name);
      }
      default: {
        applied.add("proto-many-raw");
        int count = pick(r, new Integer[] {2, 1000, 100_000});
        byte[] raw = new byte[count * 2];
        for (int i = 0; i < count; i++) {
          raw[i * 2] = 0x3a; // raw_input_contents, empty
        }
        return concat(valid, raw);
      }
    }
  }

  private static byte[] varint(long value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while ((value & ~0x7fL) != 0) {
      out.write((int) ((value & 0x7f) | 0x80));
      value >>>= 7;
    }
    out.write((int) value);
    return out.toByteArray();
  }

  /** A gRPC length-prefixed message: a flag byte, a 4-byte big-endian length, the payload. */
  static byte[] frame(int flag, long declaredLength, byte[] payload) {
    ByteBuffer buffer = ByteBuffer.allocate(5 + payload.length);
    buffer.put((byte) flag).putInt((int) declaredLength).put(payload);
    return buffer.array();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Values and helpers
  // ---------------------------------------------------------------------------------------------------------

  static JsonNode randomValue(Random r, int depth) {
    switch (r.nextInt(depth > 0 ? 20 : 16)) {
      case 0:
        return NODES.nullNode();
      case 1:
        return NODES.booleanNode(r.nextBoolean());
      case 2:
        return NODES.numberNode(0);
      case 3:
        return NODES.numberNode(-1);
      case 4:
        return NODES.numberNode(Long.MAX_VALUE);
      case 5:
        return NODES.numberNode(Long.MIN_VALUE);
      case 6:
        return BigIntegerNode.valueOf(BigInteger.ONE.shiftLeft(64 + r.nextInt(200)));
      case 7:
        return NODES.numberNode(1.5);
      case 8:
        return NODES.numberNode(-0.0);
      case 9:
        return NODES.numberNode(1e308);
      case 10:
        return TextNode.valueOf("");
      case 11:
        return TextNode.valueOf(pick(r, new String[] {"FP32", "x", "1", "true", "null", "[]"}));
      case 12:
        return TextNode.valueOf(randomText(r, 40));
      case 13:
        return NODES.numberNode(r.nextInt(1000));
      case 14:
        return NODES.numberNode(Integer.MAX_VALUE + 1L);
      case 15:
        return NODES.numberNode(4.9e-324);
      case 16:
        return NODES.arrayNode();
      case 17:
        return NODES.objectNode();
      case 18: {
        ArrayNode array = NODES.arrayNode();
        for (int i = r.nextInt(4); i > 0; i--) {
          array.add(randomValue(r, depth - 1));
        }
        return array;
      }
      default: {
        ObjectNode object = NODES.objectNode();
        for (int i = r.nextInt(3); i > 0; i--) {
          object.set(randomText(r, 6), randomValue(r, depth - 1));
        }
        return object;
      }
    }
  }

  static JsonNode parameterValue(Random r) {
    switch (r.nextInt(12)) {
      case 0:
        return NODES.booleanNode(r.nextBoolean());
      case 1:
        return NODES.numberNode(r.nextInt(5));
      case 2:
        return NODES.numberNode(-1 - r.nextInt(5));
      case 3:
        return NODES.numberNode(Long.MAX_VALUE);
      case 4:
        return BigIntegerNode.valueOf(BigInteger.ONE.shiftLeft(64));
      case 5:
        return NODES.numberNode(2.5);
      case 6:
        return TextNode.valueOf(pick(r, new String[] {"", "1", "true", "region"}));
      case 7:
        return NODES.nullNode();
      case 8:
        return NODES.arrayNode().add(1);
      case 9:
        return NODES.objectNode().put("a", 1);
      case 10:
        return NODES.numberNode(Double.NaN);
      default:
        return NODES.numberNode(1 + r.nextInt(3));
    }
  }

  static JsonNode randomShape(Random r) {
    ArrayNode shape = NODES.arrayNode();
    int rank = r.nextInt(9);
    for (int i = 0; i < rank; i++) {
      switch (r.nextInt(12)) {
        case 0:
          shape.add(-1);
          break;
        case 1:
          shape.add(0);
          break;
        case 2:
          shape.add(1L << 62);
          break;
        case 3:
          shape.add(Long.MAX_VALUE);
          break;
        case 4:
          shape.add(1.5);
          break;
        case 5:
          shape.add("3");
          break;
        case 6:
          shape.add(BigIntegerNode.valueOf(BigInteger.ONE.shiftLeft(70)));
          break;
        case 7:
          shape.add(3037000500L);
          break;
        default:
          shape.add(pick(r, new Integer[] {1, 2, 3, 4, 48, 192, 8, 9}));
      }
    }
    return shape;
  }

  static JsonNode randomDatatype(Random r) {
    if (r.nextInt(8) == 0) {
      return randomValue(r, 0);
    }
    return TextNode.valueOf(pick(r, new String[] {"FP32", "FP64", "FP16", "BF16", "INT8", "INT16", "INT32", "INT64",
      "UINT8", "UINT16", "UINT32", "UINT64", "BOOL", "BYTES", "fp32", "FLOAT", "", "FP32 ", "STRING", "TYPE_FP32"}));
  }

  static String randomText(Random r, int max) {
    int length = r.nextInt(max + 1);
    StringBuilder text = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      switch (r.nextInt(6)) {
        case 0:
          text.append((char) (0x80 + r.nextInt(0x700)));
          break;
        case 1:
          text.append(pick(r, new String[] {"\"", "\\", "\n", "\t", "/", "\u0000", "\ud83d\ude00", "%", "'"}));
          break;
        default:
          text.append((char) ('a' + r.nextInt(26)));
      }
    }
    return text.toString();
  }

  static String longString(Random r, int length) {
    char c = (char) ('a' + r.nextInt(26));
    return String.valueOf(c).repeat(length);
  }

  static long elementCount(long[] shape) {
    long count = 1;
    for (long dim : shape) {
      count *= dim;
    }
    return count;
  }

  static byte[] floats(int count, Random r) {
    ByteBuffer buffer = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      buffer.putFloat(r.nextInt(64) == 0 ? (float) r.nextGaussian() : 0f);
    }
    return buffer.array();
  }

  static String json(long[] shape) {
    StringBuilder text = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      text.append(i > 0 ? "," : "").append(shape[i]);
    }
    return text.append(']').toString();
  }

  static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] compress(byte[] data, String encoding) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream compressor = encoding.equals("gzip") ? new GZIPOutputStream(out) : new DeflaterOutputStream(out)) {
      compressor.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static byte[] mutateBytes(byte[] data, Random r) {
    byte[] out = data.clone();
    if (out.length == 0) {
      return out;
    }
    for (int k = 1 + r.nextInt(8); k > 0; k--) {
      out[r.nextInt(out.length)] ^= (byte) (1 + r.nextInt(255));
    }
    return out;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] joined = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, joined, a.length, b.length);
    return joined;
  }

  static byte[] insert(byte[] body, int at, byte[] inserted) {
    byte[] out = new byte[body.length + inserted.length];
    System.arraycopy(body, 0, out, 0, at);
    System.arraycopy(inserted, 0, out, at, inserted.length);
    System.arraycopy(body, at, out, at + inserted.length, body.length - at);
    return out;
  }

  static int indexOf(byte[] body, byte[] needle, int from) {
    outer:
    for (int i = from; i <= body.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (body[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Replaces the first occurrence of {@code needle}. */
  static byte[] replace(byte[] body, byte[] needle, byte[] replacement) {
    int at = indexOf(body, needle, 0);
    if (at < 0) {
      return body;
    }
    byte[] out = new byte[body.length - needle.length + replacement.length];
    System.arraycopy(body, 0, out, 0, at);
    System.arraycopy(replacement, 0, out, at, replacement.length);
    System.arraycopy(body, at + needle.length, out, at + replacement.length, body.length - at - needle.length);
    return out;
  }

  static void collectObjects(JsonNode node, List<ObjectNode> into) {
    if (node.isObject()) {
      into.add((ObjectNode) node);
      for (Map.Entry<String, JsonNode> field : node.properties()) {
        if (!field.getKey().equals("data")) {
          collectObjects(field.getValue(), into);
        }
      }
    } else if (node.isArray()) {
      for (JsonNode child : node) {
        collectObjects(child, into);
      }
    }
  }

  static List<String> fieldNames(ObjectNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  static <T> T pick(Random r, T[] values, int... weights) {
    if (weights.length == 0) {
      return values[r.nextInt(values.length)];
    }
    int total = 0;
    for (int weight : weights) {
      total += weight;
    }
    int at = r.nextInt(total);
    for (int i = 0; i < weights.length; i++) {
      at -= weights[i];
      if (at < 0) {
        return values[i];
      }
    }
    return values[values.length - 1];
  }

  static int pick(Random r, Integer[] values) {
    return values[r.nextInt(values.length)];
  }

  static long pick(Random r, Long[] values) {
    return values[r.nextInt(values.length)];
  }

  static double pick(Random r, Double[] values) {
    return values[r.nextInt(values.length)];
  }
}
