package io.serval.server.protocol.v2.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.serval.engine.DataType;
import io.serval.engine.InvalidInputException;
import io.serval.engine.Shapes;
import io.serval.engine.Tensor;
import io.serval.engine.TensorSpec;
import io.serval.engine.UnsupportedFeatureException;
import io.serval.server.inference.InferenceRequest;
import io.serval.server.inference.RequestedOutput;
import io.serval.server.repository.ModelVersion;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Decodes a v2 HTTP infer request body: a JSON document, optionally followed by binary tensor blocks (the
 * {@code binary_tensor_data} extension) whose JSON length the {@code Inference-Header-Content-Length} header
 * gives. Every malformed part is reported with the input it belongs to and what was expected.
 */
final class HttpInferDecoder {
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private HttpInferDecoder() {}

  /** Decodes a body for {@code version}, which a raw body ({@code Inference-Header-Content-Length: 0}) needs. */
  static InferenceRequest decode(
      ModelVersion version, byte[] body, @Nullable String headerLength, long deadlineNanos) {
    int jsonLength = body.length;
    if (headerLength != null) {
      jsonLength = parseHeaderLength(headerLength, body.length);
      if (jsonLength == 0) {
        return rawBody(version, body, deadlineNanos);
      }
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(body, 0, jsonLength);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException("malformed JSON in the request: " + e.getOriginalMessage() + " at byte "
          + e.getLocation().getCharOffset());
    } catch (IOException e) {
      throw new InvalidInputException("unreadable JSON in the request: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new InvalidInputException("the request is " + kind(root) + " (expected: a JSON object with 'inputs')");
    }
    String id = optionalString(root, "id", "request");
    Map<String, Object> parameters = parameters(root.get("parameters"), "request");
    rejectSharedMemory(parameters, "the request");
    JsonNode inputs = root.get("inputs");
    if (inputs == null || !inputs.isArray()) {
      throw new InvalidInputException(
          "the request has " + (inputs == null ? "no 'inputs'" : "'inputs' that is " + kind(inputs))
              + " (expected: a list of input tensors)");
    }
    BinaryBlocks blocks = new BinaryBlocks(body, jsonLength);
    List<Tensor> tensors = new ArrayList<>(inputs.size());
    for (int i = 0; i < inputs.size(); i++) {
      tensors.add(input(inputs.get(i), i, blocks));
    }
    blocks.requireConsumed();
    List<RequestedOutput> outputs = null;
    boolean binaryDefault = Boolean.TRUE.equals(parameters.get("binary_data_output"));
    JsonNode outputNodes = root.get("outputs");
    if (outputNodes != null && !outputNodes.isNull()) {
      if (!outputNodes.isArray()) {
        throw new InvalidInputException("'outputs' is " + kind(outputNodes) + " (expected: a list of outputs)");
      }
      outputs = new ArrayList<>();
      for (int i = 0; i < outputNodes.size(); i++) {
        outputs.add(output(outputNodes.get(i), i, binaryDefault));
      }
    }
    return new InferenceRequest(id, parameters, tensors, outputs, binaryDefault, deadlineNanos);
  }

  private static int parseHeaderLength(String value, int bodyLength) {
    long length;
    try {
      length = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new InvalidInputException(HEADER_LENGTH + " is '" + value + "' (expected: a byte count)");
    }
    if (length < 0 || length > bodyLength) {
      throw new InvalidInputException(HEADER_LENGTH + " is " + length + " but the body has only " + bodyLength
          + " bytes (expected: 0 to " + bodyLength + ")");
    }
    return (int) length;
  }

  /** {@code Inference-Header-Content-Length: 0}: the whole body is the raw data of the model's only input. */
  private static InferenceRequest rawBody(ModelVersion resolved, byte[] body, long deadlineNanos) {
    List<TensorSpec> inputs = resolved.servedSignature().inputs();
    if (inputs.size() != 1) {
      throw new InvalidInputException(HEADER_LENGTH + " is 0 (a raw binary body) but " + resolved.label()
          + " has " + inputs.size() + " inputs (expected: exactly one)");
    }
    TensorSpec spec = inputs.get(0);
    long[] shape = spec.shape();
    if (resolved.config().maxBatchSize() > 0) {
      shape[0] = 1;
    }
    if (!Shapes.isConcrete(shape)) {
      throw new InvalidInputException(HEADER_LENGTH + " is 0 (a raw binary body) but input '" + spec.name()
          + "' has open dimensions " + Shapes.format(spec.shape()) + " (expected: a fully fixed shape)");
    }
    Tensor tensor = Tensor.copyOf(spec.name(), spec.dataType(), shape, body, 0, body.length);
    return new InferenceRequest("", Map.of(), List.of(tensor), null, true, deadlineNanos);
  }

  private static Tensor input(JsonNode node, int index, BinaryBlocks blocks) {
    if (node == null || !node.isObject()) {
      throw new InvalidInputException("inputs[" + index + "] is " + kind(node) + " (expected: a tensor object)");
    }
    JsonNode nameNode = node.get("name");
    if (nameNode == null || !nameNode.isTextual() || nameNode.asText().isEmpty()) {
      throw new InvalidInputException("inputs[" + index + "] has no 'name' (expected: the input's name)");
    }
    String name = nameNode.asText();
    String what = "input '" + name + "'";
    JsonNode typeNode = node.get("datatype");
    DataType type = typeNode != null && typeNode.isTextual() ? DataType.fromWireName(typeNode.asText()) : null;
    if (type == null) {
      throw new InvalidInputException(what + " has datatype " + (typeNode == null ? "missing" : typeNode.toString())
          + " (expected: one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, "
          + "BF16, BYTES)");
    }
    long[] shape = shape(node.get("shape"), what);
    Map<String, Object> parameters = parameters(node.get("parameters"), what);
    rejectSharedMemory(parameters, what);
    Object binarySize = parameters.get("binary_data_size");
    JsonNode data = node.get("data");
    if (binarySize != null) {
      if (!(binarySize instanceof Long) || (Long) binarySize < 0) {
        throw new InvalidInputException(what + ": binary_data_size is " + binarySize + " (expected: a byte count)");
      }
      if (data != null) {
        throw new InvalidInputException(what + " has both 'data' and binary_data_size (expected: one of them)");
      }
      return blocks.next(name, type, shape, (Long) binarySize);
    }
    if (data == null) {
      throw new InvalidInputException(what + " has no 'data' and no binary_data_size parameter (expected: one)");
    }
    if (type == DataType.FP16 || type == DataType.BF16) {
      throw new InvalidInputException(what + " is " + type.wireName() + ", which JSON cannot carry"
          + " (expected: binary tensor data with the binary_data_size parameter)");
    }
    long expected = Shapes.elementCount(shape);
    List<JsonNode> elements = new ArrayList<>();
    flatten(data, elements, expected);
    if (elements.size() != expected) {
      throw new InvalidInputException(what + ": data has " + (elements.size() > expected ? "more than " + expected
          : elements.size()) + " elements (expected: " + expected + " for shape " + Shapes.format(shape) + ")");
    }
    return jsonTensor(name, type, shape, elements);
  }

  private static void flatten(JsonNode node, List<JsonNode> into, long limit) {
    if (node.isArray()) {
      for (JsonNode child : node) {
        flatten(child, into, limit);
        if (into.size() > limit) {
          return;
        }
      }
    } else {
      into.add(node);
    }
  }

  private static Tensor jsonTensor(String name, DataType type, long[] shape, List<JsonNode> elements) {
    if (type == DataType.BYTES) {
      List<byte[]> values = new ArrayList<>(elements.size());
      for (int i = 0; i < elements.size(); i++) {
        JsonNode element = elements.get(i);
        if (!element.isTextual()) {
          throw elementError(name, i, element, "a string");
        }
        values.add(element.asText().getBytes(StandardCharsets.UTF_8));
      }
      return Tensor.ofBytes(name, shape, values);
    }
    ByteBuffer buffer = Tensor.allocate((long) elements.size() * type.byteSize());
    for (int i = 0; i < elements.size(); i++) {
      put(buffer, type, elements.get(i), name, i);
    }
    buffer.flip();
    return Tensor.of(name, type, shape, buffer);
  }

  private static void put(ByteBuffer buffer, DataType type, JsonNode element, String name, int index) {
    switch (type) {
      case BOOL:
        if (!element.isBoolean()) {
          throw elementError(name, index, element, "true or false");
        }
        buffer.put((byte) (element.asBoolean() ? 1 : 0));
        return;
      case FP32:
        if (!element.isNumber()) {
          throw elementError(name, index, element, "a number");
        }
        buffer.putFloat(element.floatValue());
        return;
      case FP64:
        if (!element.isNumber()) {
          throw elementError(name, index, element, "a number");
        }
        buffer.putDouble(element.doubleValue());
        return;
      case UINT64:
        if (!element.isIntegralNumber() || element.bigIntegerValue().signum() < 0
            || element.bigIntegerValue().compareTo(UINT64_MAX) > 0) {
          throw elementError(name, index, element, "an integer from 0 to " + UINT64_MAX);
        }
        buffer.putLong(element.bigIntegerValue().longValue());
        return;
      default:
        long min = type.minValue();
        long max = type.maxValue();
        if (!element.isIntegralNumber() || !element.canConvertToLong() || element.asLong() < min
            || element.asLong() > max) {
          throw elementError(name, index, element, "an integer from " + min + " to " + max + " for "
              + type.wireName());
        }
        long value = element.asLong();
        switch (type.byteSize()) {
          case 1:
            buffer.put((byte) value);
            break;
          case 2:
            buffer.putShort((short) value);
            break;
          case 4:
            buffer.putInt((int) value);
            break;
          default:
            buffer.putLong(value);
        }
    }
  }

  private static InvalidInputException elementError(String name, int index, JsonNode element, String expected) {
    return new InvalidInputException(
        "input '" + name + "': data element " + index + " is " + element + " (expected: " + expected + ")");
  }

  private static long[] shape(@Nullable JsonNode node, String what) {
    if (node == null || !node.isArray()) {
      throw new InvalidInputException(what + " has shape " + kind(node) + " (expected: a list of dimensions)");
    }
    long[] shape = new long[node.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode dim = node.get(i);
      if (!dim.isIntegralNumber() || !dim.canConvertToLong() || dim.asLong() < 0) {
        throw new InvalidInputException(what + " has shape " + node + ": dimension " + i + " is " + dim
            + " (expected: an integer >= 0)");
      }
      shape[i] = dim.asLong();
    }
    try {
      Shapes.elementCount(shape);
    } catch (ArithmeticException e) {
      throw new InvalidInputException(what + " has shape " + node + ", whose element count overflows");
    }
    return shape;
  }

  private static RequestedOutput output(JsonNode node, int index, boolean binaryDefault) {
    if (node == null || !node.isObject() || node.get("name") == null || !node.get("name").isTextual()) {
      throw new InvalidInputException("outputs[" + index + "] is " + kind(node)
          + " (expected: an object with the output's 'name')");
    }
    String name = node.get("name").asText();
    String what = "output '" + name + "'";
    Map<String, Object> parameters = parameters(node.get("parameters"), what);
    rejectSharedMemory(parameters, what);
    Object binary = parameters.getOrDefault("binary_data", binaryDefault);
    if (!(binary instanceof Boolean)) {
      throw new InvalidInputException(what + ": binary_data is " + binary + " (expected: true or false)");
    }
    Object classification = parameters.getOrDefault("classification", 0L);
    if (!(classification instanceof Long) || (Long) classification < 0 || (Long) classification > Integer.MAX_VALUE) {
      throw new InvalidInputException(
          what + ": classification is " + classification + " (expected: a class count >= 1)");
    }
    return new RequestedOutput(name, (Boolean) binary, (int) (long) (Long) classification);
  }

  private static Map<String, Object> parameters(@Nullable JsonNode node, String what) {
    Map<String, Object> parameters = new LinkedHashMap<>();
    if (node == null || node.isNull()) {
      return parameters;
    }
    if (!node.isObject()) {
      throw new InvalidInputException(what + " has 'parameters' that is " + kind(node) + " (expected: an object)");
    }
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      JsonNode value = field.getValue();
      if (value.isBoolean()) {
        parameters.put(field.getKey(), value.asBoolean());
      } else if (value.isIntegralNumber() && value.canConvertToLong()) {
        parameters.put(field.getKey(), value.asLong());
      } else if (value.isNumber()) {
        parameters.put(field.getKey(), value.asDouble());
      } else if (value.isTextual()) {
        parameters.put(field.getKey(), value.asText());
      } else {
        throw new InvalidInputException(what + ": parameter '" + field.getKey() + "' is " + kind(value)
            + " (expected: a boolean, number or string)");
      }
    }
    return parameters;
  }

  private static void rejectSharedMemory(Map<String, Object> parameters, String what) {
    if (parameters.containsKey("shared_memory_region")) {
      throw new UnsupportedFeatureException(what + " uses shared_memory_region; Serval does not support shared"
          + " memory tensors (send the data in the request)");
    }
  }

  private static String optionalString(JsonNode root, String field, String what) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return "";
    }
    if (!value.isTextual()) {
      throw new InvalidInputException(what + " '" + field + "' is " + kind(value) + " (expected: a string)");
    }
    return value.asText();
  }

  private static String kind(@Nullable JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "missing";
    }
    if (node.isObject()) {
      return "an object";
    }
    if (node.isArray()) {
      return "a list";
    }
    return node.toString();
  }

  /** The binary blocks after the JSON header, handed out in the order of the inputs that declare them. */
  private static final class BinaryBlocks {
    private final byte[] body;
    private int offset;

    BinaryBlocks(byte[] body, int jsonLength) {
      this.body = body;
      this.offset = jsonLength;
    }

    Tensor next(String name, DataType type, long[] shape, long size) {
      int remaining = body.length - offset;
      if (size > remaining) {
        throw new InvalidInputException("input '" + name + "': binary_data_size is " + size + " but only " + remaining
            + " bytes of binary data remain in the body (expected: the body to hold every declared block)");
      }
      Tensor tensor = Tensor.copyOf(name, type, shape, body, offset, (int) size);
      offset += (int) size;
      return tensor;
    }

    void requireConsumed() {
      if (offset != body.length) {
        throw new InvalidInputException("the body has " + (body.length - offset) + " bytes after the last binary"
            + " tensor (expected: the binary_data_size parameters to add up to the binary part of the body)");
      }
    }
  }
}
