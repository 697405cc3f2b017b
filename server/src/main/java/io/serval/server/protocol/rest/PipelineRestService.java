package io.serval.server.protocol.rest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.common.multipart.AggregatedBodyPart;
import com.linecorp.armeria.common.multipart.Multipart;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.Servable;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.core.TensorValues;
import io.serval.dag.Pipeline;
import io.serval.server.admission.AdmissionControl;
import io.serval.server.inference.InferenceService;
import io.serval.server.protocol.v2.http.HttpErrors;
import io.serval.server.protocol.v2.http.RequestBodies;
import io.serval.server.protocol.v2.http.TimeoutHeader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * {@code POST /v1/pipelines/{name}}: a pipeline called with plain JSON or a form upload, answering plain JSON,
 * for callers that have no v2 client (a browser form, {@code curl -F image=@cat.jpg}).
 *
 * <p>The request is either
 * <ul>
 *   <li>{@code application/json}: an object with one field per pipeline input. A value is a scalar or nested
 *       lists, read as the input's datatype, its shape taken from the nesting and fitted to the input's dims
 *       ({@link TensorValues}: a scalar fills a shape of one element). A BYTES element is a string (its UTF-8
 *       bytes) or {@code {"b64": "..."}} (the bytes base64 encodes, as TF Serving's REST API writes them).
 *   <li>{@code multipart/form-data}: one part per input, named by it. A file part (with a filename, or a type
 *       other than text) is one BYTES element of its bytes; a text part is one string for a BYTES input and a
 *       JSON value for the others; several parts of one name are a list of elements, in their order.
 * </ul>
 *
 * <p>The answer is {@code 200} with an object of every pipeline output by name, each as lists nested in its
 * shape, and a tensor of rank 0 (a {@code reshape} to {@code []}) as its single value, so a client sees the same
 * JSON types whatever the request; BYTES elements as strings when they are UTF-8, else as
 * {@code {"b64": "..."}}. {@code ?timings=true} adds each node's time in a standard {@code Server-Timing}
 * header. Failures are the v2 error body and status ({@link HttpErrors}), naming the input or node at fault. The
 * body limit, compression, deadline header ({@link TimeoutHeader}), admission control and access control are
 * those of the v2 prediction endpoints.
 */
public final class PipelineRestService {
  /** The route. */
  public static final String PATH = "/v1/pipelines/{pipeline}";
  /** JSON nesting a request may have: a tensor of rank 62 inside the object. */
  private static final int DEPTH_LIMIT = 64;
  private static final int NUMBER_LIMIT = 400;
  private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(DEPTH_LIMIT)
          .maxNumberLength(NUMBER_LIMIT)
          .build())
      .build());

  private final InferenceService inference;
  private final int maxRequestBytes;

  public PipelineRestService(InferenceService inference, int maxRequestBytes) {
    this.inference = inference;
    this.maxRequestBytes = maxRequestBytes;
  }

  /** Binds the route to {@code sb}. */
  public void bindTo(ServerBuilder sb) {
    sb.route().post(PATH).build(this::infer);
  }

  private HttpResponse infer(ServiceRequestContext ctx, HttpRequest req) {
    long deadline = TimeoutHeader.deadline(req.headers().get(TimeoutHeader.NAME));
    boolean timings = timingsAsked(ctx.queryParam("timings"));
    CompletableFuture<HttpResponse> response = req.aggregate()
        .thenComposeAsync(aggregated -> start(ctx, aggregated, deadline, timings), ctx.blockingTaskExecutor())
        .exceptionally(error -> HttpErrors.failure(ctx, error));
    return HttpResponse.of(response);
  }

  private static boolean timingsAsked(@Nullable String query) {
    if (query == null || query.equals("false")) {
      return false;
    }
    if (query.equals("true")) {
      return true;
    }
    throw new InvalidInputException("query parameter timings is '" + query + "' (expected: true or false)");
  }

  private CompletableFuture<HttpResponse> start(ServiceRequestContext ctx, AggregatedHttpRequest req, long deadline,
      boolean timings) {
    Servable pipeline = inference.resolvePipeline(ctx.pathParam("pipeline"));
    AdmissionControl.charge(ctx, req.content().length());
    byte[] body = RequestBodies.decode(
        req.content().array(), req.headers().get(HttpHeaderNames.CONTENT_ENCODING), maxRequestBytes);
    MediaType type = req.contentType();
    Map<String, Object> values;
    if (type != null && type.is(MediaType.MULTIPART_FORM_DATA)) {
      values = formValues(pipeline, type, body);
    } else if (type == null || type.is(MediaType.JSON)) {
      values = jsonValues(pipeline, body);
    } else {
      throw new InvalidInputException("Content-Type '" + type + "' is not supported (expected: application/json"
          + " or multipart/form-data)");
    }
    List<Tensor> inputs = new ArrayList<>();
    values.forEach((name, value) -> inputs.add(tensor(pipeline, name, value)));
    InferenceRequest request = new InferenceRequest("", timings ? Map.of(Pipeline.NODE_TIMINGS, true) : Map.of(),
        inputs, null, false, deadline, MemoryScope.open());
    CompletableFuture<HttpResponse> result =
        inference.infer(pipeline, request, ctx.blockingTaskExecutor(), PipelineRestService::encode);
    ctx.whenRequestCancelling().thenRun(() -> result.cancel(false));
    return result;
  }

  /** The JSON body's fields, as plain values, by input. */
  private static Map<String, Object> jsonValues(Servable pipeline, byte[] body) {
    if (body.length == 0) {
      throw new InvalidInputException("the request has no body (expected: a JSON object of inputs, "
          + inputsExample(pipeline) + ", or a multipart/form-data upload)");
    }
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new InvalidInputException("malformed JSON in the request: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (at byte " + e.getLocation().getByteOffset() + ")"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (root == null || !root.isObject()) {
      throw new InvalidInputException("the request is not a JSON object of inputs (expected: "
          + inputsExample(pipeline) + ")");
    }
    Map<String, Object> values = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      values.put(field.getKey(), plain(field.getKey(), field.getValue()));
    }
    return values;
  }

  /** A JSON value as the plain values {@link TensorValues} reads; {@code {"b64": "..."}} as its bytes. */
  private static Object plain(String input, JsonNode node) {
    if (node.isArray()) {
      List<Object> list = new ArrayList<>(node.size());
      node.forEach(item -> list.add(plain(input, item)));
      return list;
    }
    if (node.isObject()) {
      JsonNode encoded = node.get("b64");
      if (node.size() != 1 || encoded == null || !encoded.isTextual()) {
        throw new InvalidInputException("input '" + input + "': an object " + abbreviate(node.toString())
            + " (expected: a value, a list, or {\"b64\": \"...\"} for bytes)");
      }
      try {
        return Base64.getDecoder().decode(encoded.asText());
      } catch (IllegalArgumentException e) {
        throw new InvalidInputException("input '" + input + "': b64 is not base64: " + e.getMessage());
      }
    }
    if (node.isTextual()) {
      return node.asText();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    if (node.isNumber()) {
      return node.numberValue();
    }
    throw new InvalidInputException("input '" + input + "': " + node + " (expected: a value, a list, or {\"b64\":"
        + " \"...\"} for bytes)");
  }

  /** The form's parts, as plain values, by input. */
  private static Map<String, Object> formValues(Servable pipeline, MediaType type, byte[] body) {
    List<String> boundary = type.parameters().get("boundary");
    if (boundary == null || boundary.isEmpty() || boundary.get(0).isEmpty()) {
      throw new InvalidInputException("the multipart/form-data request has no boundary in its Content-Type");
    }
    List<AggregatedBodyPart> parts;
    try {
      parts = Multipart.from(boundary.get(0), StreamMessage.of(HttpData.wrap(body))).aggregate().join()
          .bodyParts();
    } catch (RuntimeException e) {
      throw new InvalidInputException("the multipart/form-data body cannot be read: " + rootMessage(e));
    }
    Map<String, List<Object>> grouped = new LinkedHashMap<>();
    for (int i = 0; i < parts.size(); i++) {
      AggregatedBodyPart part = parts.get(i);
      String name = part.name();
      if (name == null) {
        throw new InvalidInputException("part " + i + " of the form has no name (expected: one of "
            + String.join(", ", inputNames(pipeline)) + ")");
      }
      TensorSpec spec = spec(pipeline, name);
      MediaType partType = part.contentType();
      boolean file = part.filename() != null || partType != null && !partType.is(MediaType.ANY_TEXT_TYPE);
      Object value;
      if (file) {
        value = part.content().array();
      } else if (spec.dataType() == DataType.BYTES) {
        value = part.contentUtf8();
      } else {
        try {
          value = plain(name, JSON.readTree(part.contentUtf8()));
        } catch (JsonProcessingException e) {
          throw new InvalidInputException("input '" + name + "': the form field is not a JSON value: "
              + e.getOriginalMessage());
        }
      }
      grouped.computeIfAbsent(name, key -> new ArrayList<>()).add(value);
    }
    Map<String, Object> values = new LinkedHashMap<>();
    grouped.forEach((name, list) -> values.put(name, list.size() == 1 ? list.get(0) : list));
    return values;
  }

  private static Tensor tensor(Servable pipeline, String name, Object value) {
    TensorSpec spec = spec(pipeline, name);
    try {
      return TensorValues.of(name, spec.dataType(), spec.shape(), value);
    } catch (IllegalArgumentException e) {
      throw new InvalidInputException("input '" + name + "': " + e.getMessage());
    }
  }

  private static TensorSpec spec(Servable pipeline, String name) {
    for (TensorSpec input : pipeline.signature().inputs()) {
      if (input.name().equals(name)) {
        return input;
      }
    }
    throw new InvalidInputException("unknown input '" + name + "' (" + pipeline.label() + " takes: "
        + String.join(", ", inputNames(pipeline)) + ")");
  }

  /** {@code {"image": ...}}: the JSON object a pipeline takes, in outline. */
  private static String inputsExample(Servable pipeline) {
    return inputNames(pipeline).stream().map(name -> "\"" + name + "\": ...")
        .collect(Collectors.joining(", ", "{", "}"));
  }

  private static List<String> inputNames(Servable pipeline) {
    return pipeline.signature().inputs().stream().map(TensorSpec::name).toList();
  }

  private static String rootMessage(Throwable error) {
    Throwable cause = error;
    while (cause.getCause() != null) {
      cause = cause.getCause();
    }
    return String.valueOf(cause.getMessage());
  }

  private static String abbreviate(String text) {
    return text.length() > 64 ? text.substring(0, 61) + "..." : text;
  }

  /** The outputs as one JSON object, and the node timings as a {@code Server-Timing} header when asked for. */
  static HttpResponse encode(InferenceResult result) {
    ByteArrayOutputStream json = new ByteArrayOutputStream(256);
    try (JsonGenerator out = JSON.getFactory().createGenerator(json)) {
      out.writeStartObject();
      for (Tensor tensor : result.outputs()) {
        out.writeFieldName(tensor.name());
        List<byte[]> bytes = tensor.dataType() == DataType.BYTES ? tensor.bytesElements() : null;
        if (tensor.rank() == 0) {
          writeElement(out, tensor, 0, bytes);
        } else {
          writeNested(out, tensor, 0, new long[] {0}, bytes);
        }
      }
      out.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ResponseHeadersBuilder headers = ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.JSON);
    String timing = serverTiming(result.parameters());
    if (!timing.isEmpty()) {
      headers.set("server-timing", timing);
    }
    return HttpResponse.of(headers.build(), HttpData.wrap(json.toByteArray()));
  }

  /** The {@code Server-Timing} value for a pipeline's node timings: {@code node;dur=<ms>}, each fallback noted. */
  private static String serverTiming(Map<String, Object> parameters) {
    List<String> entries = new ArrayList<>();
    parameters.forEach((key, value) -> {
      if (key.startsWith(Pipeline.NODE_MICROS)) {
        String node = key.substring(Pipeline.NODE_MICROS.length());
        Object fallback = parameters.get(Pipeline.NODE_FALLBACK + node);
        entries.add(node + ";dur=" + ((Long) value) / 1000.0
            + (fallback == null ? "" : ";desc=\"fallback after " + fallback + "\""));
      }
    });
    return String.join(", ", entries);
  }

  private static void writeNested(JsonGenerator out, Tensor tensor, int axis, long[] next,
      @Nullable List<byte[]> bytes) throws IOException {
    out.writeStartArray();
    for (long i = 0; i < tensor.dim(axis); i++) {
      if (axis == tensor.rank() - 1) {
        writeElement(out, tensor, next[0]++, bytes);
      } else {
        writeNested(out, tensor, axis + 1, next, bytes);
      }
    }
    out.writeEndArray();
  }

  private static void writeElement(JsonGenerator out, Tensor tensor, long index, @Nullable List<byte[]> bytes)
      throws IOException {
    if (bytes != null) {
      byte[] element = bytes.get((int) index);
      try {
        out.writeString(StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(element)).toString());
      } catch (CharacterCodingException e) {
        out.writeStartObject();
        out.writeStringField("b64", Base64.getEncoder().encodeToString(element));
        out.writeEndObject();
      }
      return;
    }
    Number value = tensor.numberAt(index);
    if (tensor.dataType() == DataType.BOOL) {
      out.writeBoolean(value.intValue() != 0);
    } else if (value instanceof Float number) {
      out.writeNumber(number);
    } else if (value instanceof Double number) {
      out.writeNumber(number);
    } else {
      out.writeNumber(value.toString());
    }
  }
}
