package io.serval.server.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import io.grpc.Status;
import io.netty.util.ResourceLeakDetector;
import io.grpc.StatusRuntimeException;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server bugs {@link FuzzGenerator} found, each pinned by the exact request that shows it (reduced by hand
 * from the generated case), and asserting what the server should answer. They fail until the server is fixed.
 */
class FuzzFindingsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String AFFINE_INPUT = "{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}";
  /** A valid affine ModelInferRequest, serialized. */
  private static final byte[] AFFINE_PROTO = ModelInferRequest.newBuilder().setModelName("affine")
      .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
          .addShape(1).addShape(4))
      .addRawInputContents(ByteString.copyFrom(new byte[16]))
      .build().toByteArray();

  private static FuzzServer server;
  private static BlockingWebClient http;
  private static BlockingWebClient grpcHttp;
  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc;

  @BeforeAll
  static void start() throws Exception {
    server = FuzzServer.start();
    http = WebClient.builder(server.httpUri()).maxResponseLength(0).build().blocking();
    grpcHttp = WebClient.builder("h2c://127.0.0.1:" + server.grpcPort).maxResponseLength(0).build().blocking();
    grpc = GrpcClients.builder(server.grpcUri())
        .maxRequestMessageLength(64 << 20).maxResponseMessageLength(64 << 20)
        .build(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  // --- HTTP/JSON ---------------------------------------------------------------------------------------------

  /** Found as json/deep-nesting@data and json/long-number@data: the message quotes Jackson's API. */
  @Test
  void jsonLimitErrorsNameTheLimitNotJacksonsClasses() throws IOException {
    String deep = "[".repeat(2000) + "1" + "]".repeat(2000);
    String digits = "1" + "0".repeat(1999);
    for (String data : new String[] {deep, "[" + digits + ",2,3,4]"}) {
      String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":" + data + "}]}";

      String error = assertHttpError(postJson("/v2/models/affine/infer", body), HttpStatus.BAD_REQUEST);

      assertThat(error).doesNotContain("StreamReadConstraints", "getMax", "`");
    }
  }

  /** Found as json/invalid-utf8@key: bytes that are not UTF-8 (overlong, past U+10FFFF) inside a key. */
  @Test
  void invalidUtf8InTheJsonIsRejected() throws IOException {
    byte[][] invalid = {{(byte) 0xc0, (byte) 0xaf}, {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
      {(byte) 0xed, (byte) 0xa0, (byte) 0x80}};
    for (byte[] bytes : invalid) {
      for (String template : new String[] {
        "{\"inputs\":[" + AFFINE_INPUT + "],\"parameters\":{\"k@\":1}}", "{\"id\":\"a@b\",\"inputs\":[" + AFFINE_INPUT + "]}"}) {
        int at = template.indexOf('@');
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(template.substring(0, at).getBytes(StandardCharsets.UTF_8));
        body.write(bytes);
        body.write(template.substring(at + 1).getBytes(StandardCharsets.UTF_8));

        AggregatedHttpResponse response = http.execute(
            RequestHeaders.builder(HttpMethod.POST, "/v2/models/affine/infer").contentType(
                com.linecorp.armeria.common.MediaType.JSON).build(), HttpData.wrap(body.toByteArray()));

        assertThat(response.status()).as("%s: %s", FuzzCase.Escape.bytes(body.toByteArray(), 200),
            response.contentUtf8()).isEqualTo(HttpStatus.BAD_REQUEST);
      }
    }
  }

  /**
   * Found as grpc-stub/dynamic-dims: a height or width of 0 fits the served shape [-1,3,-1,-1] of a model without
   * a config, passes validation and fails in ONNX Runtime (ORT_INVALID_ARGUMENT "Invalid input shape: {2,0}"),
   * which the server answers as an internal error.
   */
  @Test
  void anEmptyImageIsAClientErrorNotAnInternalOne() throws IOException {
    String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3,2,0],\"datatype\":\"FP32\",\"data\":[]}]}";

    assertHttpError(postJson("/v2/models/ocr_dynamic/infer", body), HttpStatus.BAD_REQUEST);
    assertGrpcStatus(() -> grpc.modelInfer(ModelInferRequest.newBuilder().setModelName("ocr_dynamic")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(1).addShape(3).addShape(0).addShape(16))
        .addRawInputContents(ByteString.EMPTY)
        .build()), Status.Code.INVALID_ARGUMENT);
  }

  // --- gRPC --------------------------------------------------------------------------------------------------

  /**
   * Found as grpc-stub/model and grpc-stub/datatype: the error message quotes the whole client-supplied name,
   * the grpc-message header outgrows HTTP/2's 8 KiB header list, the server cannot send the status and resets the
   * stream, and the client gets CANCELLED with no message.
   */
  @Test
  void errorsAboutHugeNamesStillReachTheClient() {
    assertGrpcStatus(() -> grpc.modelInfer(ModelInferRequest.newBuilder().setModelName("m".repeat(100_000))
        .build()), Status.Code.NOT_FOUND);
    assertGrpcStatus(() -> grpc.modelInfer(ModelInferRequest.newBuilder().setModelName("affine")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("F".repeat(10_000))
            .addShape(1).addShape(4))
        .addRawInputContents(ByteString.copyFrom(new byte[16]))
        .build()), Status.Code.INVALID_ARGUMENT);
  }

  /**
   * Found as grpc-stub/raw-count: a message over limits.max_request_bytes is refused with HTTP 413, which is not
   * a gRPC answer: clients see UNKNOWN "HTTP status code 413", and the server logs an internal error.
   */
  @Test
  void aGrpcRequestOverTheBodyLimitIsResourceExhausted() {
    assertGrpcStatus(() -> grpc.modelInfer(ModelInferRequest.newBuilder().setModelName("affine")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(1).addShape(4))
        .addRawInputContents(ByteString.copyFrom(new byte[FuzzGenerator.MAX_REQUEST_BYTES + 1]))
        .build()), Status.Code.RESOURCE_EXHAUSTED);
  }

  /**
   * Found as grpc-raw/proto-*: bytes that do not parse as a ModelInferRequest (here a string field whose length
   * runs past the end) are answered INTERNAL, framed or unframed, as protobuf or as JSON. They are the client's
   * error: INVALID_ARGUMENT. Unframed gRPC is not served (see ServalServer.bindGrpc): 415.
   */
  @Test
  void unparsableMessagesAreInvalidArgument() {
    byte[] truncated = {0x0a, (byte) 0xff, 0x01, 'a'};
    assertFramedStatus("application/grpc", FuzzGenerator.frame(0, truncated.length, truncated), Status.Code.INVALID_ARGUMENT);
    // gRPC-JSON is not served (no v2 client sends it; Armeria built its marshallers at start, 6 s of a 10 s start).
    byte[] json = "{\"modelName\":1".getBytes(StandardCharsets.UTF_8);
    AggregatedHttpResponse grpcJson = grpcHttp.execute(
        RequestHeaders.builder(HttpMethod.POST, FuzzGenerator.GRPC_INFER).contentType(
            com.linecorp.armeria.common.MediaType.parse("application/grpc+json")).build(),
        HttpData.wrap(FuzzGenerator.frame(0, json.length, json)));
    assertThat(grpcJson.status()).as(grpcJson.contentUtf8()).isEqualTo(HttpStatus.UNSUPPORTED_MEDIA_TYPE);

    AggregatedHttpResponse unframed = grpcHttp.execute(
        RequestHeaders.builder(HttpMethod.POST, FuzzGenerator.GRPC_INFER).contentType(
            com.linecorp.armeria.common.MediaType.PROTOBUF).build(), HttpData.wrap(truncated));
    assertThat(unframed.status()).as(unframed.contentUtf8()).isEqualTo(HttpStatus.UNSUPPORTED_MEDIA_TYPE);
  }

  /**
   * Found as grpc-raw/frame-cut and frame-length: a body shorter than the 5-byte frame header, or than the length
   * the header declares, makes Armeria's unary deframer throw IndexOutOfBoundsException, answered INTERNAL.
   */
  @Test
  void aTruncatedFrameIsInvalidArgument() {
    assertFramedStatus("application/grpc", new byte[] {0, 0, 0}, Status.Code.INVALID_ARGUMENT);
    byte[] frame = FuzzGenerator.frame(0, AFFINE_PROTO.length + 1, AFFINE_PROTO);
    assertFramedStatus("application/grpc", frame, Status.Code.INVALID_ARGUMENT);
  }

  /**
   * Found as grpc-raw/frame-flag: a frame whose flag byte has reserved bits set (0x02), or says compressed (0x01)
   * without a grpc-encoding, is answered INTERNAL. (gRPC's own implementations use INTERNAL for the second; a
   * client error is what a client caused.)
   */
  @Test
  void badFrameFlagsAreInvalidArgument() {
    assertFramedStatus("application/grpc", FuzzGenerator.frame(2, AFFINE_PROTO.length, AFFINE_PROTO),
        Status.Code.INVALID_ARGUMENT);
    assertFramedStatus("application/grpc", FuzzGenerator.frame(1, AFFINE_PROTO.length, AFFINE_PROTO),
        Status.Code.INVALID_ARGUMENT);
  }

  /** Found as grpc-raw/frame-length: "com.linecorp.armeria.common.grpc.protocol.ArmeriaMessageDeframer: Frame size ...". */
  @Test
  void frameSizeErrorsDoNotNameArmeriaClasses() {
    String message = assertFramedStatus("application/grpc",
        FuzzGenerator.frame(0, FuzzGenerator.MAX_REQUEST_BYTES + 1L, AFFINE_PROTO), Status.Code.RESOURCE_EXHAUSTED);

    assertThat(message).doesNotContain("com.linecorp", "Deframer");
  }

  /** Found as grpc-raw/grpc-timeout: an unreadable grpc-timeout is INVALID_ARGUMENT with an empty message. */
  @Test
  void anUnreadableGrpcTimeoutIsNamedInTheError() {
    for (String timeout : new String[] {"abc", "-1S", ""}) {
      String message = assertFramedStatus("application/grpc", FuzzGenerator.frame(0, AFFINE_PROTO.length, AFFINE_PROTO),
          Status.Code.INVALID_ARGUMENT, "grpc-timeout", timeout);

      assertThat(message).as("grpc-timeout '%s'", timeout).containsIgnoringCase("timeout");
    }
  }

  /**
   * Found as grpc-stub/inputs: an input name of 5,000 "é" is echoed whole (percent-encoded, 30 KB) in grpc-message;
   * the headers outgrow HTTP/2's limit, the stream is reset and the client gets CANCELLED with no message.
   */
  @Test
  void errorsAboutHugeInputNamesStillReachTheClient() {
    assertGrpcStatus(() -> grpc.modelInfer(ModelInferRequest.newBuilder().setModelName("affine")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("\u00e9".repeat(5000)).setDatatype("FP32")
            .addShape(1).addShape(4))
        .addRawInputContents(ByteString.copyFrom(new byte[16]))
        .build()), Status.Code.INVALID_ARGUMENT);
  }

  /**
   * Found as grpc-stub/deadline and grpc-raw/grpc-timeout ("1n"): a call whose deadline passes while the server
   * works on it is sometimes answered INTERNAL (the server logs RequestTimeoutException as an internal error)
   * instead of DEADLINE_EXCEEDED.
   */
  @Test
  void aPassedDeadlineIsDeadlineExceededNotInternal() {
    for (int i = 0; i < 300; i++) {
      AggregatedHttpResponse response = grpcHttp.execute(RequestHeaders.builder(HttpMethod.POST, FuzzGenerator.GRPC_INFER)
          .set("content-type", "application/grpc").set("te", "trailers").set("grpc-timeout", i % 2 == 0 ? "1n" : "10u")
          .build(), HttpData.wrap(FuzzGenerator.frame(0, AFFINE_PROTO.length, AFFINE_PROTO)));
      String status = response.trailers().get("grpc-status");
      if (status == null) {
        status = response.headers().get("grpc-status");
      }
      assertThat(status).as("call %d: %s", i, response.headers()).isIn("0", "4");
    }
  }

  /**
   * Found as grpc-raw/two-frames: a unary call carrying two request messages is answered from the first (Armeria's
   * unary deframer reads one message). Accepted as lenient rather than rejected: the answer is the correct answer
   * to the first message, and nothing is read twice or mixed up.
   */
  @Test
  void aUnaryCallWithTwoMessagesIsAnsweredFromTheFirst() {
    byte[] one = FuzzGenerator.frame(0, AFFINE_PROTO.length, AFFINE_PROTO);

    assertFramedStatus("application/grpc", FuzzGenerator.concat(one, one), Status.Code.OK);
  }

  /** Found as grpc-raw/proto-truncated+grpc-encoding: "the request cannot be read as a ModelInferRequest: java.io.EOFException". */
  @Test
  void aTruncatedGzipMessageIsNamedWithoutJavaClasses() {
    byte[] gzip = FuzzGenerator.compress(AFFINE_PROTO, "gzip");
    byte[] truncated = java.util.Arrays.copyOf(gzip, gzip.length / 2);

    String message = assertFramedStatus("application/grpc", FuzzGenerator.frame(1, truncated.length, truncated),
        Status.Code.INVALID_ARGUMENT, "grpc-encoding", "gzip");

    assertThat(Leaks.find(message, () -> "")).as(message).isNull();
  }

  /**
   * The soak's log had Netty leak reports for a buffer created in UnaryDecoderInput.readBytes (from
   * AbstractMessageDeframer.readBody). Its cause is not pinned yet: these two candidates seen near the reports (a
   * second message in a unary call, a deadline passing) do not leak on their own; kept as guards.
   */
  @Test
  void unaryCallsThatFailDoNotLeakTheirBuffers() throws InterruptedException {
    byte[] one = FuzzGenerator.frame(0, AFFINE_PROTO.length, AFFINE_PROTO);
    assertThat(leakReports(() -> grpcHttp.execute(RequestHeaders.builder(HttpMethod.POST, FuzzGenerator.GRPC_INFER)
        .set("content-type", "application/grpc").set("te", "trailers").build(),
        HttpData.wrap(FuzzGenerator.concat(one, one))))).as("two messages").isEmpty();
    assertThat(leakReports(() -> grpcHttp.execute(RequestHeaders.builder(HttpMethod.POST, FuzzGenerator.GRPC_INFER)
        .set("content-type", "application/grpc").set("te", "trailers").set("grpc-timeout", "10u").build(),
        HttpData.wrap(one)))).as("deadline passed").isEmpty();
  }

  /**
   * Found by the soak's log (Netty's leak detector: "LEAK: ByteBuf.release() was not called", created in
   * ArmeriaMessageFramer.write from AbstractUnframedGrpcService.frameAndServe): every unframed gRPC request whose
   * body does not parse leaves the buffer it was framed into unreleased, so a client can leak server memory at will.
   */
  @Test
  void unparsableUnframedRequestsDoNotLeakBuffers() throws InterruptedException {
    byte[] unparsable = {0x0a, (byte) 0xff, 0x01};
    assertThat(leakReports(() -> grpcHttp.execute(RequestHeaders.builder(HttpMethod.POST, FuzzGenerator.GRPC_INFER)
        .contentType(com.linecorp.armeria.common.MediaType.PROTOBUF).build(), HttpData.wrap(unparsable)))).isEmpty();
  }

  /** Netty's leak reports (paranoid: every buffer tracked) while {@code request} is sent 800 times. */
  private static java.util.List<String> leakReports(Runnable request) throws InterruptedException {
    ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    ServerErrorLog log = ServerErrorLog.attach();
    try {
      for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 200; i++) {
          request.run();
        }
        // Leaks are reported when a collected buffer is found on a later allocation.
        System.gc();
        Thread.sleep(200);
      }
      return log.counts.keySet().stream().filter(key -> key.contains("LEAK")).collect(java.util.stream.Collectors.toList());
    } finally {
      log.detach();
      ResourceLeakDetector.setLevel(level);
    }
  }

  // --- helpers -----------------------------------------------------------------------------------------------

  private static AggregatedHttpResponse postJson(String path, String body) {
    return http.prepare().post(path).content(com.linecorp.armeria.common.MediaType.JSON, body).execute();
  }

  /** Asserts a v2 error: the status and a JSON body whose "error" names the problem; returns the message. */
  private static String assertHttpError(AggregatedHttpResponse response, HttpStatus status) throws IOException {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(status);
    JsonNode body = MAPPER.readTree(response.contentUtf8());
    String error = body.path("error").asText();
    assertThat(error).isNotBlank();
    assertThat(Leaks.find(error, () -> "")).as(error).isNull();
    return error;
  }

  private static void assertGrpcStatus(Runnable call, Status.Code code) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).as(String.valueOf(e.getStatus())).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).isNotBlank();
    });
  }

  /** Posts one hand-made gRPC body and asserts its grpc-status; returns the grpc-message. */
  private static String assertFramedStatus(String contentType, byte[] body, Status.Code code, String... headers) {
    RequestHeadersBuilder request = RequestHeaders.builder(HttpMethod.POST, FuzzGenerator.GRPC_INFER)
        .set("content-type", contentType).set("te", "trailers");
    for (int i = 0; i < headers.length; i += 2) {
      request.set(headers[i], headers[i + 1]);
    }
    AggregatedHttpResponse response = grpcHttp.execute(request.build(), HttpData.wrap(body));
    String status = response.trailers().get("grpc-status");
    String message = response.trailers().get("grpc-message");
    if (status == null) {
      status = response.headers().get("grpc-status");
      message = response.headers().get("grpc-message");
    }
    message = message == null ? "" : URLDecoder.decode(message.replace("+", "%2B"), StandardCharsets.UTF_8);
    assertThat(status).as("HTTP %s: %s", response.status(), response.contentUtf8()).isNotNull();
    assertThat(Status.fromCodeValue(Integer.parseInt(status)).getCode()).as(message).isEqualTo(code);
    return message;
  }
}
