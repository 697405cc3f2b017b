package io.serval.server.protocol.v2.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import io.serval.core.DataType;
import io.serval.core.InferenceResult;
import io.serval.core.RequestedOutput;
import io.serval.core.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a v2 HTTP infer response: JSON, with each output that asked for binary data (and every FP16/BF16
 * output, which JSON cannot carry) appended after the JSON as a raw block announced by its {@code
 * binary_data_size} parameter and the {@code Inference-Header-Content-Length} header.
 */
final class HttpInferEncoder {
  private static final JsonFactory JSON = new JsonFactory();

  private HttpInferEncoder() {}

  static HttpResponse encode(InferenceResult result) {
    ByteArrayOutputStream json = new ByteArrayOutputStream(256);
    List<ByteBuffer> blocks = new ArrayList<>();
    try (JsonGenerator out = JSON.createGenerator(json)) {
      out.writeStartObject();
      out.writeStringField("model_name", result.modelName());
      out.writeStringField("model_version", result.modelVersion());
      if (!result.id().isEmpty()) {
        out.writeStringField("id", result.id());
      }
      if (!result.parameters().isEmpty()) {
        out.writeObjectFieldStart("parameters");
        for (Map.Entry<String, Object> parameter : result.parameters().entrySet()) {
          out.writeFieldName(parameter.getKey());
          out.writeObject(parameter.getValue());
        }
        out.writeEndObject();
      }
      out.writeArrayFieldStart("outputs");
      for (int i = 0; i < result.outputs().size(); i++) {
        Tensor tensor = result.outputs().get(i);
        RequestedOutput requested = result.requested().get(i);
        out.writeStartObject();
        out.writeStringField("name", tensor.name());
        out.writeStringField("datatype", tensor.dataType().wireName());
        out.writeArrayFieldStart("shape");
        for (long dim : tensor.shape()) {
          out.writeNumber(dim);
        }
        out.writeEndArray();
        boolean binary = requested.binary() || tensor.dataType() == DataType.FP16 || tensor.dataType() == DataType.BF16;
        if (binary) {
          out.writeObjectFieldStart("parameters");
          out.writeNumberField("binary_data_size", tensor.byteSize());
          out.writeEndObject();
          blocks.add(tensor.data());
        } else {
          out.writeArrayFieldStart("data");
          writeData(out, tensor);
          out.writeEndArray();
        }
        out.writeEndObject();
      }
      out.writeEndArray();
      out.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (blocks.isEmpty()) {
      return HttpResponse.of(HttpStatus.OK, MediaType.JSON, HttpData.wrap(json.toByteArray()));
    }
    int headerLength = json.size();
    int total = headerLength;
    for (ByteBuffer block : blocks) {
      total += block.remaining();
    }
    byte[] body = new byte[total];
    System.arraycopy(json.toByteArray(), 0, body, 0, headerLength);
    int offset = headerLength;
    for (ByteBuffer block : blocks) {
      int length = block.remaining();
      block.get(body, offset, length);
      offset += length;
    }
    ResponseHeaders headers = ResponseHeaders.builder(HttpStatus.OK)
        .contentType(MediaType.OCTET_STREAM)
        .set(HttpInferDecoder.HEADER_LENGTH, Integer.toString(headerLength))
        .build();
    return HttpResponse.of(headers, HttpData.wrap(body));
  }

  private static void writeData(JsonGenerator out, Tensor tensor) throws IOException {
    DataType type = tensor.dataType();
    if (type == DataType.BYTES) {
      for (byte[] element : tensor.bytesElements()) {
        out.writeString(new String(element, StandardCharsets.UTF_8));
      }
      return;
    }
    long count = tensor.elementCount();
    for (long i = 0; i < count; i++) {
      Number value = tensor.numberAt(i);
      if (type == DataType.BOOL) {
        out.writeBoolean(value.intValue() != 0);
      } else if (value instanceof Float) {
        out.writeNumber(value.floatValue());
      } else if (value instanceof Double) {
        out.writeNumber(value.doubleValue());
      } else if (value instanceof BigInteger) {
        out.writeNumber((BigInteger) value);
      } else {
        out.writeNumber(value.longValue());
      }
    }
  }
}
