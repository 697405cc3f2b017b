package io.serval.server.protocol.v2.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.RequestedOutput;
import io.serval.core.Servable;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Decodes a v2 HTTP infer request body: a JSON document, optionally followed by binary tensor blocks (the {@code
 * binary_tensor_data} extension) whose JSON length the {@code Inference-Header-Content-Length} header gives.
 *
 * <p>The JSON is read as a token stream, never as a tree: each input's {@code data} goes straight into the
 * request's tensor memory, checked element by element against the datatype and the count its shape declares, so
 * a body can hold no more elements than its shape says. Nesting depth and number length are bounded while
 * reading ({@link #DEPTH_LIMIT}, {@link #NUMBER_LIMIT}). Every malformed part is reported with the input it
 * belongs to and what was expected; syntax errors with their byte offset.
 */
final class HttpInferDecoder {
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";
  /** JSON nesting allowed: the envelope takes 4 levels, the rest is for the data of tensors of high rank. */
  static final int DEPTH_LIMIT = 64;
  /** Digits a JSON number may have; a UINT64 needs 20 and a double's exact decimal form fits too. */
  static final int NUMBER_LIMIT = 400;
  private static final JsonFactory JSON = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(DEPTH_LIMIT)
          .maxNumberLength(NUMBER_LIMIT)
          .build())
      .build();
  private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private HttpInferDecoder() {}

  /**
   * Decodes a body for {@code version}, which a raw body ({@code Inference-Header-Content-Length: 0}) needs; the
   * tensors are allocated in {@code memory}.
   */
  static InferenceRequest decode(Servable version, byte[] body, @Nullable String headerLength,
      long deadlineNanos, MemoryScope memory) {
    int jsonLength = body.length;
    if (headerLength != null) {
      jsonLength = parseHeaderLength(headerLength, body.length);
      if (jsonLength == 0) {
        return rawBody(version, body, deadlineNanos, memory);
      }
    }
    requireUtf8(body, jsonLength);
    try (JsonParser parser = JSON.createParser(body, 0, jsonLength)) {
      InferenceRequest request = new Reader(parser, new BinaryBlocks(body, jsonLength, memory), deadlineNanos, memory)
          .request();
      if (parser.nextToken() != null) {
        throw new InvalidInputException("the request has more JSON after its object at byte "
            + offset(parser.currentLocation()) + " (expected: one JSON object)");
      }
      return request;
    } catch (StreamConstraintsException e) {
      throw new InvalidInputException(constraintMessage(e));
    } catch (JsonProcessingException e) {
      throw new InvalidInputException("malformed JSON in the request: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " at byte " + offset(e.getLocation())));
    } catch (IOException e) {
      throw new InvalidInputException("unreadable JSON in the request: " + e.getMessage());
    }
  }

  /**
   * Refuses JSON that is not well-formed UTF-8 (overlong forms, surrogates, code points past U+10FFFF), which the
   * JSON parser would otherwise read into names and strings. ASCII, the usual case, costs one pass over the bytes.
   */
  private static void requireUtf8(byte[] body, int length) {
    int i = 0;
    while (i < length && body[i] >= 0) {
      i++;
    }
    if (i == length) {
      return;
    }
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body, 0, length);
    CharBuffer out = CharBuffer.allocate(4096);
    while (true) {
      CoderResult result = decoder.decode(in, out, true);
      if (result.isError()) {
        throw new InvalidInputException(
            "the JSON of the request is not valid UTF-8 at byte " + in.position() + " (expected: UTF-8 text)");
      }
      if (result.isUnderflow()) {
        return;
      }
      out.clear();
    }
  }

  /** Says which bound a document broke, in Serval's words (Jackson's name its own internals). */
  private static String constraintMessage(StreamConstraintsException e) {
    String jackson = String.valueOf(e.getOriginalMessage()).toLowerCase(java.util.Locale.ROOT);
    if (jackson.contains("nesting")) {
      return "the JSON of the request nests deeper than " + DEPTH_LIMIT + " levels (expected: at most "
          + DEPTH_LIMIT + ", enough for tensors of any rank)";
    }
    if (jackson.contains("number")) {
      return "a number in the JSON of the request is longer than " + NUMBER_LIMIT + " characters (expected: at most "
          + NUMBER_LIMIT + ")";
    }
    if (jackson.contains("string")) {
      return "a string in the JSON of the request is longer than the server reads";
    }
    return "the JSON of the request is larger than the server reads";
  }

  private static long offset(JsonLocation location) {
    return location.getByteOffset() >= 0 ? location.getByteOffset() : location.getCharOffset();
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
  private static InferenceRequest rawBody(Servable resolved, byte[] body, long deadlineNanos, MemoryScope memory) {
    List<TensorSpec> inputs = resolved.signature().inputs();
    if (inputs.size() != 1) {
      throw new InvalidInputException(HEADER_LENGTH + " is 0 (a raw binary body) but " + resolved.label()
          + " has " + inputs.size() + " inputs (expected: exactly one)");
    }
    TensorSpec spec = inputs.get(0);
    long[] shape = spec.shape();
    if (resolved.maxBatchSize() > 0) {
      shape[0] = 1;
    }
    if (!Shapes.isConcrete(shape)) {
      throw new InvalidInputException(HEADER_LENGTH + " is 0 (a raw binary body) but input '" + spec.name()
          + "' has open dimensions " + Shapes.format(spec.shape()) + " (expected: a fully fixed shape)");
    }
    ByteBuffer data = memory.allocate(body.length).put(body).flip();
    Tensor tensor = Tensor.of(spec.name(), spec.dataType(), shape, data);
    return new InferenceRequest("", Map.of(), List.of(tensor), null, true, deadlineNanos, memory);
  }

  /** Reads one request object from the token stream. */
  private static final class Reader {
    private final JsonParser parser;
    private final BinaryBlocks blocks;
    private final long deadlineNanos;
    private final MemoryScope memory;

    Reader(JsonParser parser, BinaryBlocks blocks, long deadlineNanos, MemoryScope memory) {
      this.parser = parser;
      this.blocks = blocks;
      this.deadlineNanos = deadlineNanos;
      this.memory = memory;
    }

    InferenceRequest request() throws IOException {
      JsonToken first = parser.nextToken();
      if (first != JsonToken.START_OBJECT) {
        throw new InvalidInputException("the request is " + describe(first) + " (expected: a JSON object with 'inputs')");
      }
      String id = "";
      Map<String, Object> parameters = new LinkedHashMap<>();
      List<InputFields> inputs = null;
      List<OutputFields> outputs = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        switch (field) {
          case "id":
            if (value != JsonToken.VALUE_NULL) {
              id = string(value, "request 'id'");
            }
            break;
          case "parameters":
            parameters = parameters(value, "request");
            break;
          case "inputs":
            requireArray(value, "the request has 'inputs' that is", "a list of input tensors");
            inputs = new ArrayList<>();
            while (parser.nextToken() != JsonToken.END_ARRAY) {
              inputs.add(input(inputs.size()));
            }
            break;
          case "outputs":
            if (value == JsonToken.VALUE_NULL) {
              break;
            }
            requireArray(value, "'outputs' is", "a list of outputs");
            outputs = new ArrayList<>();
            while (parser.nextToken() != JsonToken.END_ARRAY) {
              outputs.add(output(outputs.size()));
            }
            break;
          default:
            parser.skipChildren();
        }
      }
      InferenceRequest.rejectSharedMemory(parameters, "the request");
      if (inputs == null) {
        throw new InvalidInputException("the request has no 'inputs' (expected: a list of input tensors)");
      }
      List<Tensor> tensors = new ArrayList<>(inputs.size());
      for (InputFields input : inputs) {
        tensors.add(input.toTensor(blocks, memory));
      }
      blocks.requireConsumed();
      boolean binaryDefault = Boolean.TRUE.equals(parameters.get("binary_data_output"));
      List<RequestedOutput> requested = null;
      if (outputs != null) {
        requested = new ArrayList<>(outputs.size());
        for (OutputFields output : outputs) {
          requested.add(RequestedOutput.of(output.name, output.parameters, binaryDefault));
        }
      }
      return new InferenceRequest(id, parameters, tensors, requested, binaryDefault, deadlineNanos, memory);
    }

    private InputFields input(int index) throws IOException {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        throw new InvalidInputException(
            "inputs[" + index + "] is " + describe(parser.currentToken()) + " (expected: a tensor object)");
      }
      InputFields input = new InputFields(index);
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        switch (field) {
          case "name":
            input.name = value == JsonToken.VALUE_STRING ? parser.getText() : null;
            break;
          case "datatype":
            input.datatype = value == JsonToken.VALUE_STRING ? parser.getText() : null;
            input.datatypeFound = describe(value);
            break;
          case "shape":
            shape(value, input);
            break;
          case "parameters":
            input.parameters = parameters(value, "inputs[" + index + "]");
            break;
          case "data":
            input.readData(parser);
            break;
          default:
            break;
        }
        parser.skipChildren();
      }
      return input;
    }

    private OutputFields output(int index) throws IOException {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        throw new InvalidInputException("outputs[" + index + "] is " + describe(parser.currentToken())
            + " (expected: an object with the output's 'name')");
      }
      OutputFields output = new OutputFields();
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        if (field.equals("name") && value == JsonToken.VALUE_STRING) {
          output.name = parser.getText();
        } else if (field.equals("parameters")) {
          output.parameters = parameters(value, "outputs[" + index + "]");
        } else {
          parser.skipChildren();
        }
      }
      if (output.name == null) {
        throw new InvalidInputException(
            "outputs[" + index + "] has no 'name' (expected: an object with the output's 'name')");
      }
      return output;
    }

    /** Reads a shape into {@code input}, or what is wrong with it, to report once the input's name is known. */
    private void shape(JsonToken value, InputFields input) throws IOException {
      if (value != JsonToken.START_ARRAY) {
        input.shapeError = "has shape " + describe(value) + " (expected: a list of dimensions)";
        return;
      }
      List<Long> dims = new ArrayList<>();
      JsonToken token;
      while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
        if (input.shapeError != null) {
          parser.skipChildren();
          continue;
        }
        if (token != JsonToken.VALUE_NUMBER_INT || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
            || parser.getLongValue() < 0) {
          input.shapeError = "has shape dimension " + dims.size() + " that is " + describe(token)
              + " (expected: an integer >= 0)";
          parser.skipChildren();
          continue;
        }
        dims.add(parser.getLongValue());
      }
      if (input.shapeError != null) {
        return;
      }
      long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
      try {
        Shapes.elementCount(shape);
        input.shape = shape;
      } catch (ArithmeticException e) {
        input.shapeError = "has shape " + dims + ", whose element count overflows";
      }
    }

    private Map<String, Object> parameters(JsonToken value, String what) throws IOException {
      Map<String, Object> parameters = new LinkedHashMap<>();
      if (value == JsonToken.VALUE_NULL) {
        return parameters;
      }
      if (value != JsonToken.START_OBJECT) {
        throw new InvalidInputException(what + " has 'parameters' that is " + describe(value) + " (expected: an object)");
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String key = parser.currentName();
        JsonToken token = parser.nextToken();
        switch (token) {
          case VALUE_TRUE:
          case VALUE_FALSE:
            parameters.put(key, token == JsonToken.VALUE_TRUE);
            break;
          case VALUE_NUMBER_INT:
            if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
              parameters.put(key, parser.getDoubleValue());
            } else {
              parameters.put(key, parser.getLongValue());
            }
            break;
          case VALUE_NUMBER_FLOAT:
            parameters.put(key, parser.getDoubleValue());
            break;
          case VALUE_STRING:
            parameters.put(key, parser.getText());
            break;
          default:
            throw new InvalidInputException(what + ": parameter '" + key + "' is " + describe(token)
                + " (expected: a boolean, number or string)");
        }
      }
      return parameters;
    }

    private String string(JsonToken value, String what) throws IOException {
      if (value != JsonToken.VALUE_STRING) {
        throw new InvalidInputException(what + " is " + describe(value) + " (expected: a string)");
      }
      return parser.getText();
    }

    private void requireArray(JsonToken value, String what, String expected) throws IOException {
      if (value != JsonToken.START_ARRAY) {
        throw new InvalidInputException(what + " " + describe(value) + " (expected: " + expected + ")");
      }
    }

    private String describe(@Nullable JsonToken token) throws IOException {
      if (token == null) {
        return "missing";
      }
      switch (token) {
        case START_OBJECT:
          return "an object";
        case START_ARRAY:
          return "a list";
        case VALUE_STRING:
          return "\"" + abbreviate(parser.getText()) + "\"";
        default:
          return abbreviate(parser.getText());
      }
    }
  }

  /** The fields of one input as they arrive, in any order; {@code data} is kept as tokens until the type is known. */
  private static final class InputFields {
    private final int index;
    private @Nullable String name;
    private @Nullable String datatype;
    private String datatypeFound = "missing";
    private long @Nullable [] shape;
    private @Nullable String shapeError;
    private Map<String, Object> parameters = Map.of();
    private @Nullable TokenBuffer data;

    InputFields(int index) {
      this.index = index;
    }

    /** Copies the {@code data} value's tokens (a compact token list, not a tree) to decode once type and shape are known. */
    void readData(JsonParser parser) throws IOException {
      data = TokenBuffer.asCopyOfValue(parser);
    }

    Tensor toTensor(BinaryBlocks blocks, MemoryScope memory) throws IOException {
      if (name == null || name.isEmpty()) {
        throw new InvalidInputException("inputs[" + index + "] has no 'name' (expected: the input's name)");
      }
      String what = "input '" + name + "'";
      DataType type = datatype == null ? null : DataType.fromWireName(datatype);
      if (type == null) {
        throw new InvalidInputException(what + " has datatype " + datatypeFound
            + " (expected: one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, "
            + "BF16, BYTES)");
      }
      if (shapeError != null) {
        throw new InvalidInputException(what + " " + shapeError);
      }
      if (shape == null) {
        throw new InvalidInputException(what + " has shape missing (expected: a list of dimensions)");
      }
      InferenceRequest.rejectSharedMemory(parameters, what);
      Object binarySize = parameters.get("binary_data_size");
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
      try (JsonParser tokens = data.asParser()) {
        tokens.nextToken();
        return new DataReader(name, type, shape, tokens).read(memory, blocks.jsonLength());
      }
    }
  }

  /** The fields of one requested output. */
  private static final class OutputFields {
    private @Nullable String name;
    private Map<String, Object> parameters = Map.of();
  }

  /**
   * Writes a {@code data} value (flat or nested lists, row-major) into a tensor, checking each element as it comes:
   * its JSON type, its range for the datatype, and that there are no more than the shape declares.
   */
  private static final class DataReader {
    private final String name;
    private final DataType type;
    private final long[] shape;
    private final long expected;
    private final JsonParser tokens;
    private long count;

    DataReader(String name, DataType type, long[] shape, JsonParser tokens) {
      this.name = name;
      this.type = type;
      this.shape = shape;
      this.expected = Shapes.elementCount(shape);
      this.tokens = tokens;
    }

    Tensor read(MemoryScope memory, int jsonLength) throws IOException {
      if (type == DataType.BYTES) {
        List<byte[]> values = new ArrayList<>();
        long bytes = 0;
        for (JsonToken token = first(); token != null; token = next()) {
          if (token != JsonToken.VALUE_STRING) {
            throw elementError(token, "a string");
          }
          byte[] value = tokens.getText().getBytes(StandardCharsets.UTF_8);
          values.add(value);
          bytes += Integer.BYTES + value.length;
          counted();
        }
        requireComplete();
        ByteBuffer buffer = memory.allocate(bytes);
        for (byte[] value : values) {
          buffer.putInt(value.length).put(value);
        }
        return Tensor.of(name, type, shape, buffer.flip());
      }
      // Each element takes at least two bytes of JSON (a digit and a separator): a shape far beyond what the body
      // can hold is refused before its memory is allocated.
      if (expected > jsonLength / 2 + 1) {
        for (JsonToken token = first(); token != null; token = next()) {
          count++;
        }
        requireComplete();
      }
      ByteBuffer buffer = null;
      for (JsonToken token = first(); token != null; token = next()) {
        if (buffer == null) {
          buffer = memory.allocate(expected * type.byteSize());
        }
        if (count >= expected) {
          throw new InvalidInputException("input '" + name + "': data has more than " + expected
              + " elements (expected: " + expected + " for shape " + Shapes.format(shape) + ")");
        }
        put(buffer, token);
        count++;
      }
      requireComplete();
      if (buffer == null) {
        buffer = memory.allocate(0);
      }
      return Tensor.of(name, type, shape, buffer.flip());
    }

    /** The first element token of the data value. */
    private @Nullable JsonToken first() throws IOException {
      JsonToken token = tokens.currentToken();
      return token == JsonToken.START_ARRAY ? next() : token;
    }

    /** The next element token, stepping through nested lists; null after the last one. */
    private @Nullable JsonToken next() throws IOException {
      JsonToken token = tokens.nextToken();
      while (token == JsonToken.START_ARRAY || token == JsonToken.END_ARRAY) {
        token = tokens.nextToken();
      }
      return token;
    }

    private void counted() {
      if (++count > expected) {
        throw new InvalidInputException("input '" + name + "': data has more than " + expected
            + " elements (expected: " + expected + " for shape " + Shapes.format(shape) + ")");
      }
    }

    private void requireComplete() {
      if (count != expected) {
        throw new InvalidInputException("input '" + name + "': data has " + count + " elements (expected: "
            + expected + " for shape " + Shapes.format(shape) + ")");
      }
    }

    private void put(ByteBuffer buffer, JsonToken token) throws IOException {
      switch (type) {
        case BOOL:
          if (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE) {
            throw elementError(token, "true or false");
          }
          buffer.put((byte) (token == JsonToken.VALUE_TRUE ? 1 : 0));
          return;
        case FP32:
          requireNumber(token);
          buffer.putFloat(tokens.getFloatValue());
          return;
        case FP64:
          requireNumber(token);
          buffer.putDouble(tokens.getDoubleValue());
          return;
        case UINT64:
          if (token != JsonToken.VALUE_NUMBER_INT || tokens.getBigIntegerValue().signum() < 0
              || tokens.getBigIntegerValue().compareTo(UINT64_MAX) > 0) {
            throw elementError(token, "an integer from 0 to " + UINT64_MAX);
          }
          buffer.putLong(tokens.getBigIntegerValue().longValue());
          return;
        default:
          long min = type.minValue();
          long max = type.maxValue();
          if (token != JsonToken.VALUE_NUMBER_INT || tokens.getNumberType() == JsonParser.NumberType.BIG_INTEGER
              || tokens.getLongValue() < min || tokens.getLongValue() > max) {
            throw elementError(token, "an integer from " + min + " to " + max + " for " + type.wireName());
          }
          long value = tokens.getLongValue();
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

    private void requireNumber(JsonToken token) throws IOException {
      if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
        throw elementError(token, "a number");
      }
    }

    private InvalidInputException elementError(JsonToken token, String expected) throws IOException {
      String element = token == JsonToken.START_OBJECT ? "an object"
          : token == JsonToken.VALUE_STRING ? "\"" + abbreviate(tokens.getText()) + "\"" : abbreviate(tokens.getText());
      return new InvalidInputException(
          "input '" + name + "': data element " + count + " is " + element + " (expected: " + expected + ")");
    }
  }

  /** A value as a message shows it: at most 64 characters. */
  private static String abbreviate(@Nullable String text) {
    if (text == null) {
      return "null";
    }
    return text.length() <= 64 ? text : text.substring(0, 61) + "...";
  }

  /** The binary blocks after the JSON header, handed out in the order of the inputs that declare them. */
  private static final class BinaryBlocks {
    private final byte[] body;
    private final MemoryScope memory;
    private final int jsonLength;
    private int offset;

    BinaryBlocks(byte[] body, int jsonLength, MemoryScope memory) {
      this.body = body;
      this.jsonLength = jsonLength;
      this.offset = jsonLength;
      this.memory = memory;
    }

    int jsonLength() {
      return jsonLength;
    }

    Tensor next(String name, DataType type, long[] shape, long size) {
      int remaining = body.length - offset;
      if (size > remaining) {
        throw new InvalidInputException("input '" + name + "': binary_data_size is " + size + " but only " + remaining
            + " bytes of binary data remain in the body (expected: the body to hold every declared block)");
      }
      ByteBuffer data = memory.allocate(size).put(body, offset, (int) size).flip();
      offset += (int) size;
      return Tensor.of(name, type, shape, data);
    }

    void requireConsumed() {
      if (offset != body.length) {
        throw new InvalidInputException("the body has " + (body.length - offset) + " bytes after the last binary"
            + " tensor (expected: the binary_data_size parameters to add up to the binary part of the body)");
      }
    }
  }
}
