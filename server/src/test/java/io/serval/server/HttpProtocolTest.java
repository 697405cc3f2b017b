package io.serval.server;

import static io.serval.server.TestRepositories.INPUT;
import static io.serval.server.TestRepositories.MODEL;
import static io.serval.server.TestRepositories.OUTPUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The v2 HTTP protocol against a real server on the built-in model, spoken by hand to see every byte. */
class HttpProtocolTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String INFER = "/v2/models/" + MODEL + "/infer";
  private static final int MAX_BODY = 1 << 20;

  @TempDir static Path repository;
  private static RunningServer server;
  private static BlockingWebClient client;

  @BeforeAll
  static void start() throws Exception {
    TestRepositories.copyBuiltIn(repository, MODEL);
    server = RunningServer.start(repository, "--limits.max_request_bytes=" + MAX_BODY);
    client = WebClient.builder(server.httpUri()).maxResponseLength(0).build().blocking();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void infersJsonTensorsLikeOnnxRuntime() throws Exception {
    AggregatedHttpResponse response = post(INFER, jsonRequest("FP32", new long[] {2, 3, 48, 192}, TestRepositories.goldenInput()));

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    JsonNode body = MAPPER.readTree(response.contentUtf8());
    assertThat(body.get("model_name").asText()).isEqualTo(MODEL);
    assertThat(body.get("model_version").asText()).isEqualTo("1");
    assertThat(body.get("id").asText()).isEqualTo("request-7");
    JsonNode output = body.get("outputs").get(0);
    assertThat(output.get("name").asText()).isEqualTo(OUTPUT);
    assertThat(output.get("datatype").asText()).isEqualTo("FP32");
    assertThat(output.get("shape").toString()).isEqualTo("[2,2]");
    float[] expected = TestRepositories.goldenOutput();
    for (int i = 0; i < expected.length; i++) {
      assertThat(output.get("data").get(i).floatValue()).isCloseTo(expected[i], within(1e-5f));
    }
  }

  @Test
  void infersBinaryTensorsAndAnswersInBinary() throws Exception {
    byte[] data = TestRepositories.littleEndian(TestRepositories.goldenInput());
    String header = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,3,48,192],\"datatype\":\"FP32\","
        + "\"parameters\":{\"binary_data_size\":" + data.length + "}}],"
        + "\"outputs\":[{\"name\":\"" + OUTPUT + "\",\"parameters\":{\"binary_data\":true}}]}";

    AggregatedHttpResponse response = postBinary(INFER, header, data);

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    int jsonLength = Integer.parseInt(response.headers().get("inference-header-content-length"));
    byte[] body = response.content().array();
    JsonNode json = MAPPER.readTree(new String(body, 0, jsonLength, StandardCharsets.UTF_8));
    assertThat(json.get("outputs").get(0).get("parameters").get("binary_data_size").asInt()).isEqualTo(16);
    assertThat(body.length).isEqualTo(jsonLength + 16);
    ByteBuffer floats = ByteBuffer.wrap(body, jsonLength, 16).slice().order(ByteOrder.LITTLE_ENDIAN);
    float[] expected = TestRepositories.goldenOutput();
    for (int i = 0; i < 4; i++) {
      assertThat(floats.getFloat(i * 4)).isCloseTo(expected[i], within(1e-5f));
    }
  }

  @Test
  void acceptsGzipAndDeflateBodiesAndCompressesTheAnswerOnRequest() throws Exception {
    byte[] json = jsonRequest("FP32", new long[] {2, 3, 48, 192}, TestRepositories.goldenInput()).getBytes(StandardCharsets.UTF_8);
    for (String encoding : new String[] {"gzip", "deflate"}) {
      AggregatedHttpResponse response = client.execute(
          RequestHeaders.builder(HttpMethod.POST, INFER)
              .contentType(com.linecorp.armeria.common.MediaType.JSON)
              .set(HttpHeaderNames.CONTENT_ENCODING, encoding)
              .set(HttpHeaderNames.ACCEPT_ENCODING, "gzip")
              .build(),
          HttpData.wrap(compress(json, encoding)));

      assertThat(response.status()).as(encoding).isEqualTo(HttpStatus.OK);
      assertThat(response.headers().get(HttpHeaderNames.CONTENT_ENCODING)).isEqualTo("gzip");
      String body = new String(new GZIPInputStream(new java.io.ByteArrayInputStream(response.content().array()))
          .readAllBytes(), StandardCharsets.UTF_8);
      assertThat(MAPPER.readTree(body).get("outputs").get(0).get("shape").toString()).isEqualTo("[2,2]");
    }
  }

  @Test
  void classifiesWithLabels() throws Exception {
    ObjectNode request = (ObjectNode) MAPPER.readTree(jsonRequest("FP32", new long[] {2, 3, 48, 192}, TestRepositories.goldenInput()));
    request.putArray("outputs").addObject().put("name", OUTPUT).putObject("parameters").put("classification", 1);

    JsonNode output = MAPPER.readTree(post(INFER, request.toString()).contentUtf8()).get("outputs").get(0);

    assertThat(output.get("datatype").asText()).isEqualTo("BYTES");
    assertThat(output.get("shape").toString()).isEqualTo("[2,1]");
    assertThat(output.get("data").get(0).asText()).matches("0\\.99\\d{4}:0:0");
    assertThat(output.get("data").get(1).asText()).isEqualTo("1.000000:1:180");
  }

  @Test
  void rejectsUnknownModel() {
    assertError(post("/v2/models/nope/infer", "{}"), HttpStatus.NOT_FOUND, "unknown model 'nope'");
  }

  @Test
  void rejectsUnknownVersion() {
    assertError(post("/v2/models/" + MODEL + "/versions/7/infer", validRequest()), HttpStatus.NOT_FOUND,
        "model 'ocr_orientation' has no version 7 (served versions: 1)");
  }

  @Test
  void rejectsNonNumericVersion() {
    assertError(post("/v2/models/" + MODEL + "/versions/latest/infer", validRequest()), HttpStatus.BAD_REQUEST,
        "version 'latest' is not a version number");
  }

  @Test
  void rejectsWrongInputName() {
    assertError(post(INFER, validRequest().replace("\"x\"", "\"y\"")), HttpStatus.BAD_REQUEST,
        "model 'ocr_orientation' version 1: unexpected input 'y' (expected: 'x')");
  }

  @Test
  void rejectsMissingInput() {
    assertError(post(INFER, "{\"inputs\":[]}"), HttpStatus.BAD_REQUEST,
        "model 'ocr_orientation' version 1: missing input 'x' (expected: FP32[-1,3,48,192])");
  }

  @Test
  void rejectsWrongDatatype() {
    assertError(post(INFER, jsonRequest("FP64", new long[] {1, 3, 48, 192}, new float[3 * 48 * 192])),
        HttpStatus.BAD_REQUEST, "input 'x' has datatype FP64 (expected: FP32)");
  }

  @Test
  void rejectsWrongRank() {
    assertError(post(INFER, jsonRequest("FP32", new long[] {3, 48, 192}, new float[3 * 48 * 192])),
        HttpStatus.BAD_REQUEST, "input 'x' has shape [3,48,192] of rank 3 (expected: rank 4, shape [-1,3,48,192])");
  }

  @Test
  void rejectsWrongFixedDimension() {
    assertError(post(INFER, jsonRequest("FP32", new long[] {1, 3, 40, 192}, new float[3 * 40 * 192])),
        HttpStatus.BAD_REQUEST, "dimension 2 is 40 (expected: 48, shape [-1,3,48,192])");
  }

  @Test
  void rejectsBatchAboveMaxBatchSize() {
    assertError(post(INFER, jsonRequest("FP32", new long[] {9, 3, 48, 192}, new float[9 * 3 * 48 * 192])),
        HttpStatus.BAD_REQUEST, "batch size 9 (expected: 1 to 8, the model's max_batch_size)");
  }

  @Test
  void rejectsDataThatDoesNotMatchTheShape() {
    assertError(post(INFER, jsonRequest("FP32", new long[] {1, 3, 48, 192}, new float[10])),
        HttpStatus.BAD_REQUEST, "input 'x': data has 10 elements (expected: 27648 for shape [1,3,48,192])");
  }

  @Test
  void rejectsBinaryBlockOfTheWrongSize() {
    String header = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3,48,192],\"datatype\":\"FP32\","
        + "\"parameters\":{\"binary_data_size\":8}}]}";

    assertError(postBinary(INFER, header, new byte[8]), HttpStatus.BAD_REQUEST,
        "tensor 'x': 8 bytes of data for shape [1,3,48,192] of FP32 (expected: 110592 bytes)");
  }

  @Test
  void rejectsBinaryBlocksLongerThanTheBody() {
    String header = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP32\","
        + "\"parameters\":{\"binary_data_size\":800}}]}";

    assertError(postBinary(INFER, header, new byte[8]), HttpStatus.BAD_REQUEST,
        "input 'x': binary_data_size is 800 but only 8 bytes of binary data remain in the body");
  }

  @Test
  void rejectsBodyShorterThanTheHeaderLength() {
    byte[] body = "{\"inputs\":[]}".getBytes(StandardCharsets.UTF_8);
    AggregatedHttpResponse response = client.execute(
        RequestHeaders.builder(HttpMethod.POST, INFER).set("inference-header-content-length", "500").build(),
        HttpData.wrap(body));

    assertError(response, HttpStatus.BAD_REQUEST,
        "Inference-Header-Content-Length is 500 but the body has only 13 bytes (expected: 0 to 13)");
  }

  @Test
  void rejectsMalformedJson() {
    assertError(post(INFER, "{\"inputs\": ["), HttpStatus.BAD_REQUEST, "malformed JSON in the request");
  }

  @Test
  void rejectsJsonNestedTooDeepWithAClientErrorNotAServerError() {
    // Issue [3 of 10]: 2 KB nested 2,000 deep was answered 500 with a NullPointerException.
    String deep = "{\"inputs\": [{\"name\": \"x\", \"data\": " + "[".repeat(2000) + "]".repeat(2000) + "}]}";
    assertError(post(INFER, deep), HttpStatus.BAD_REQUEST,
        "the JSON of the request nests deeper than 64 levels (expected: at most 64, enough for tensors of any rank)");
  }

  @Test
  void rejectsANumberOfThousandsOfDigitsWithAClientError() {
    String huge = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1], \"data\": ["
        + "9".repeat(2000) + "]}]}";
    assertError(post(INFER, huge), HttpStatus.BAD_REQUEST,
        "a number in the JSON of the request is longer than 400 characters (expected: at most 400)");
  }

  @Test
  void rejectsFp16InJson() {
    assertError(post(INFER, jsonRequest("FP16", new long[] {1, 2}, new float[2])), HttpStatus.BAD_REQUEST,
        "input 'x' is FP16, which JSON cannot carry (expected: binary tensor data with the binary_data_size parameter)");
  }

  @Test
  void rejectsBodyOverTheConfiguredLimit() {
    byte[] body = new byte[MAX_BODY + 1];
    Arrays.fill(body, (byte) ' ');

    AggregatedHttpResponse response = client.execute(
        RequestHeaders.builder(HttpMethod.POST, INFER).contentType(com.linecorp.armeria.common.MediaType.JSON).build(),
        HttpData.wrap(body));

    assertError(response, HttpStatus.REQUEST_ENTITY_TOO_LARGE,
        "the request body is larger than " + MAX_BODY + " bytes (limits.max_request_bytes)");
  }

  @Test
  void rejectsTruncatedGzipBody() throws IOException {
    byte[] gzip = compress(validRequest().getBytes(StandardCharsets.UTF_8), "gzip");
    byte[] truncated = Arrays.copyOf(gzip, gzip.length / 2);

    AggregatedHttpResponse response = client.execute(
        RequestHeaders.builder(HttpMethod.POST, INFER).set(HttpHeaderNames.CONTENT_ENCODING, "gzip").build(),
        HttpData.wrap(truncated));

    assertError(response, HttpStatus.BAD_REQUEST, "the gzip request body is truncated");
  }

  @Test
  void keepsServingAfterErrors() throws Exception {
    post(INFER, "{\"inputs\": [");
    post("/v2/models/nope/infer", "{}");

    assertThat(post(INFER, validRequest()).status()).isEqualTo(HttpStatus.OK);
  }

  @Test
  void reportsReadinessAndMetadata() throws Exception {
    assertJson(client.get("/v2/health/live"), HttpStatus.OK, "{\"live\":true}");
    assertJson(client.get("/v2/health/ready"), HttpStatus.OK, "{\"ready\":true}");
    assertJson(client.get("/v2/models/" + MODEL + "/ready"), HttpStatus.OK,
        "{\"name\":\"ocr_orientation\",\"ready\":true}");
    assertJson(client.get("/v2/models/" + MODEL + "/versions/1/ready"), HttpStatus.OK,
        "{\"name\":\"ocr_orientation\",\"ready\":true}");
    AggregatedHttpResponse notReady = client.get("/v2/models/" + MODEL + "/versions/3/ready");
    assertError(notReady, HttpStatus.BAD_REQUEST, "model 'ocr_orientation' version 3 is not ready");
    JsonNode notReadyBody = MAPPER.readTree(notReady.contentUtf8());
    assertThat(notReadyBody.get("name").asText()).isEqualTo(MODEL);
    assertThat(notReadyBody.get("ready").isBoolean()).isTrue();
    assertThat(notReadyBody.get("ready").booleanValue()).isFalse();
    JsonNode metadata = MAPPER.readTree(client.get("/v2/models/" + MODEL).contentUtf8());
    assertThat(metadata.get("inputs").get(0).get("shape").toString()).isEqualTo("[-1,3,48,192]");
    assertThat(metadata.get("versions").toString()).isEqualTo("[\"1\"]");
  }

  @Test
  void publishesMetricsFromTheSameMeasurementsAsStatistics() throws Exception {
    post(INFER, validRequest());
    JsonNode stats = MAPPER.readTree(client.get("/v2/models/" + MODEL + "/stats").contentUtf8());
    long successes = stats.get("model_stats").get(0).get("inference_stats").get("success").get("count").asLong();

    String metrics = WebClient.of("http://127.0.0.1:" + server.metricsPort).blocking().get("/metrics").contentUtf8();

    assertThat(metrics).contains("nv_inference_request_success{model=\"ocr_orientation\",version=\"1\"} " + successes);
    assertThat(metrics).contains("serval_inference_request_seconds_bucket{model=\"ocr_orientation\"");
    assertThat(metrics).contains("serval_inference_queue_seconds_count{model=\"ocr_orientation\"");
    assertThat(metrics).contains("serval_model_load_seconds_count{model=\"ocr_orientation\",outcome=\"success\"");
    assertThat(metrics).contains("jvm_memory_used_bytes");
  }

  private static String validRequest() {
    return jsonRequest("FP32", new long[] {1, 3, 48, 192}, new float[3 * 48 * 192]);
  }

  private static String jsonRequest(String datatype, long[] shape, float[] data) {
    ObjectNode request = MAPPER.createObjectNode().put("id", "request-7");
    ArrayNode inputs = request.putArray("inputs");
    ObjectNode input = inputs.addObject().put("name", INPUT).put("datatype", datatype);
    ArrayNode shapeNode = input.putArray("shape");
    for (long dim : shape) {
      shapeNode.add(dim);
    }
    ArrayNode values = input.putArray("data");
    for (float value : data) {
      values.add(value);
    }
    return request.toString();
  }

  private static AggregatedHttpResponse post(String path, String json) {
    return client.execute(
        HttpRequest.of(HttpMethod.POST, path, com.linecorp.armeria.common.MediaType.JSON, json));
  }

  private static AggregatedHttpResponse postBinary(String path, String header, byte[] data) {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    byte[] body = Arrays.copyOf(json, json.length + data.length);
    System.arraycopy(data, 0, body, json.length, data.length);
    return client.execute(
        RequestHeaders.builder(HttpMethod.POST, path)
            .contentType(com.linecorp.armeria.common.MediaType.OCTET_STREAM)
            .set("inference-header-content-length", Integer.toString(json.length))
            .build(),
        HttpData.wrap(body));
  }

  private static byte[] compress(byte[] data, String encoding) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (java.io.OutputStream compressor =
        encoding.equals("gzip") ? new GZIPOutputStream(out) : new DeflaterOutputStream(out)) {
      compressor.write(data);
    }
    return out.toByteArray();
  }

  /** A JSON answer with exactly the fields of {@code expectedJson}, as a health check reads it. */
  private static void assertJson(AggregatedHttpResponse response, HttpStatus status, String expectedJson)
      throws IOException {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(status);
    assertThat(response.contentType()).isNotNull();
    assertThat(response.contentType().isJson()).as("content type %s", response.contentType()).isTrue();
    assertThat(MAPPER.readTree(response.contentUtf8())).isEqualTo(MAPPER.readTree(expectedJson));
  }

  private static void assertError(AggregatedHttpResponse response, HttpStatus status, String message) {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(status);
    JsonNode body;
    try {
      body = MAPPER.readTree(response.contentUtf8());
    } catch (IOException e) {
      throw new AssertionError("error body is not JSON: " + response.contentUtf8(), e);
    }
    assertThat(body.get("error").asText()).contains(message).doesNotContain("\tat ", "Exception");
    assertThat(body.get("request_id").asText()).isNotEmpty();
  }
}
