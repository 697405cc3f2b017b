package io.serval.client.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.HttpData;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferTensor;
import io.serval.core.DataType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The v2 HTTP infer body with the binary tensor extension: a JSON header naming each input with its {@code
 * binary_data_size}, then the inputs' bytes as they are (the buffers are wrapped, not copied), answered the same
 * way. Outputs the server sends as JSON {@code data} (a server without the extension) are read too.
 */
public final class HttpInferCodec {
  /** The header that says how long the JSON part of a binary body is. */
  public static final String HEADER_LENGTH = "inference-header-content-length";
  private static final JsonFactory JSON = new JsonFactory();
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private HttpInferCodec() {}

  /** The JSON header of {@code request}. */
  public static byte[] header(InferRequest request) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (JsonGenerator out = JSON.createGenerator(bytes)) {
      out.writeStartObject();
      if (!request.id().isEmpty()) {
        out.writeStringField("id", request.id());
      }
      Map<String, Object> parameters = new LinkedHashMap<>(request.parameters());
      if (request.outputs().isEmpty()) {
        parameters.put("binary_data_output", true);
      }
      writeParameters(out, parameters);
      out.writeArrayFieldStart("inputs");
      for (InferTensor input : request.inputs()) {
        out.writeStartObject();
        out.writeStringField("name", input.name());
        out.writeArrayFieldStart("shape");
        for (long dim : input.shape()) {
          out.writeNumber(dim);
        }
        out.writeEndArray();
        out.writeStringField("datatype", input.dataType().wireName());
        out.writeObjectFieldStart("parameters");
        out.writeNumberField("binary_data_size", input.byteSize());
        out.writeEndObject();
        out.writeEndObject();
      }
      out.writeEndArray();
      if (!request.outputs().isEmpty()) {
        out.writeArrayFieldStart("outputs");
        for (Map.Entry<String, Integer> output : request.outputs().entrySet()) {
          out.writeStartObject();
          out.writeStringField("name", output.getKey());
          out.writeObjectFieldStart("parameters");
          out.writeBooleanField("binary_data", true);
          if (output.getValue() > 0) {
            out.writeNumberField("classification", output.getValue());
          }
          out.writeEndObject();
          out.writeEndObject();
        }
        out.writeEndArray();
      }
      out.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The whole body: {@code header}, then each input's buffer, wrapped without copying. */
  public static HttpData body(byte[] header, InferRequest request) {
    ByteBuf[] parts = new ByteBuf[request.inputs().size() + 1];
    parts[0] = Unpooled.wrappedBuffer(header);
    for (int i = 0; i < request.inputs().size(); i++) {
      parts[i + 1] = Unpooled.wrappedBuffer(request.inputs().get(i).data());
    }
    return HttpData.wrap(Unpooled.wrappedBuffer(parts.length, parts));
  }

  /**
   * Decodes an answer: {@code body} whose first {@code headerLength} bytes are JSON (all of it when {@code -1})
   * and the rest the outputs' binary data, which the output tensors view in place.
   */
  public static InferResult decode(byte[] body, int headerLength) {
    int jsonLength = headerLength < 0 ? body.length : headerLength;
    if (jsonLength > body.length) {
      throw new IllegalArgumentException("the answer's JSON header is " + jsonLength + " bytes but the body only "
          + body.length);
    }
    JsonNode root;
    try {
      root = MAPPER.readTree(body, 0, jsonLength);
    } catch (IOException e) {
      throw new IllegalArgumentException("the answer is not v2 JSON: " + e.getMessage(), e);
    }
    List<InferTensor> outputs = new ArrayList<>();
    int offset = jsonLength;
    for (JsonNode output : root.path("outputs")) {
      String name = output.path("name").asText();
      DataType type = DataType.fromWireName(output.path("datatype").asText());
      if (type == null) {
        throw new IllegalArgumentException("output '" + name + "' has datatype " + output.path("datatype")
            + " (expected: a v2 datatype)");
      }
      long[] shape = new long[output.path("shape").size()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = output.path("shape").get(i).asLong();
      }
      JsonNode size = output.path("parameters").path("binary_data_size");
      if (size.isNumber()) {
        int length = size.asInt();
        if (offset + length > body.length) {
          throw new IllegalArgumentException("output '" + name + "' declares " + length + " bytes of binary data but"
              + " only " + (body.length - offset) + " remain");
        }
        outputs.add(InferTensor.of(name, type, shape, ByteBuffer.wrap(body, offset, length)));
        offset += length;
      } else {
        outputs.add(InferTensor.of(name, type, shape, fromJson(name, type, output.path("data"))));
      }
    }
    return InferResult.of(root.path("model_name").asText(), root.path("model_version").asText(),
        root.path("id").asText(""), parameters(root.path("parameters")), outputs);
  }

  /** Response or request parameters as Java values: Long, Double, Boolean or String. */
  static Map<String, Object> parameters(JsonNode node) {
    Map<String, Object> parameters = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      JsonNode value = field.getValue();
      Object converted = value.isBoolean() ? (Object) value.booleanValue()
          : value.isIntegralNumber() ? (Object) value.longValue()
          : value.isNumber() ? (Object) value.doubleValue()
          : value.asText();
      parameters.put(field.getKey(), converted);
    }
    return parameters;
  }

  private static void writeParameters(JsonGenerator out, Map<String, Object> parameters) throws IOException {
    if (parameters.isEmpty()) {
      return;
    }
    out.writeObjectFieldStart("parameters");
    for (Map.Entry<String, Object> parameter : parameters.entrySet()) {
      Object value = parameter.getValue();
      if (value instanceof Long number) {
        out.writeNumberField(parameter.getKey(), number);
      } else if (value instanceof Double number) {
        out.writeNumberField(parameter.getKey(), number);
      } else if (value instanceof Boolean flag) {
        out.writeBooleanField(parameter.getKey(), flag);
      } else {
        out.writeStringField(parameter.getKey(), value.toString());
      }
    }
    out.writeEndObject();
  }

  /** The tensor bytes of JSON {@code data}, flattened row-major (nested lists are accepted). */
  private static ByteBuffer fromJson(String name, DataType type, JsonNode data) {
    List<JsonNode> values = new ArrayList<>();
    flatten(data, values);
    if (type == DataType.BYTES) {
      List<byte[]> elements = new ArrayList<>(values.size());
      long total = 0;
      for (JsonNode value : values) {
        byte[] element = value.asText().getBytes(StandardCharsets.UTF_8);
        elements.add(element);
        total += Integer.BYTES + element.length;
      }
      ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(total)).order(ByteOrder.LITTLE_ENDIAN);
      elements.forEach(element -> buffer.putInt(element.length).put(element));
      return buffer.flip();
    }
    ByteBuffer buffer = ByteBuffer.allocate(values.size() * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (JsonNode value : values) {
      switch (type) {
        case BOOL -> buffer.put((byte) (value.asBoolean() ? 1 : 0));
        case INT8, UINT8 -> buffer.put((byte) value.asInt());
        case INT16, UINT16 -> buffer.putShort((short) value.asInt());
        case INT32, UINT32 -> buffer.putInt((int) value.asLong());
        case INT64 -> buffer.putLong(value.asLong());
        case UINT64 -> buffer.putLong(value.bigIntegerValue().longValue());
        case FP16 -> buffer.putShort(HalfPrecision.toFp16((float) value.asDouble()));
        case BF16 -> buffer.putShort(HalfPrecision.toBf16((float) value.asDouble()));
        case FP32 -> buffer.putFloat((float) value.asDouble());
        case FP64 -> buffer.putDouble(value.asDouble());
        default -> throw new IllegalArgumentException("output '" + name + "': cannot read " + type + " from JSON");
      }
    }
    return buffer.flip();
  }

  private static void flatten(JsonNode node, List<JsonNode> values) {
    if (node.isArray()) {
      node.forEach(item -> flatten(item, values));
    } else if (!node.isMissingNode() && !node.isNull()) {
      values.add(node);
    }
  }
}
