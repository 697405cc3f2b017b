package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ContentDisposition;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.multipart.BodyPart;
import com.linecorp.armeria.common.multipart.Multipart;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/pipelines/{name}} on the built-in repository ({@code models/}, with its {@code text-orientation}
 * pipeline over the real PaddleOCR classifier) and a test repository (the exact affine model), plus a node's
 * fallback and timings over v2.
 */
class PipelineRestTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Path GOLDEN = TestRepositories.BUILT_IN.resolve("golden");

  @TempDir static Path repository;
  private static RunningServer server;
  private static BlockingWebClient http;
  private static float[] goldenOutput;

  @BeforeAll
  static void start() throws Exception {
    TestRepositories.scoresPipeline(repository);
    TestRepositories.pairedModel(repository);
    Files.createDirectories(repository.resolve("patient"));
    Files.writeString(repository.resolve("patient").resolve("pipeline.yaml"), """
        inputs: [{name: x, datatype: FP32, dims: [1, 4]}]
        outputs: [{name: y, from: model.y}]
        nodes:
          - {name: model, op: infer, inputs: {x: x}, params: {model: paired}, timeout_ms: 50,
             fallback: {y: [[0, 0, 0, 0]]}}
        """);
    server = RunningServer.start(repository,
        "--model_repositories=" + TestRepositories.MODELS + "," + repository);
    http = WebClient.builder(server.httpUri()).build().blocking();
    ByteBuffer output = ByteBuffer.wrap(Files.readAllBytes(GOLDEN.resolve("output_softmax.bin")))
        .order(ByteOrder.LITTLE_ENDIAN);
    goldenOutput = new float[output.remaining() / Float.BYTES];
    output.asFloatBuffer().get(goldenOutput);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static AggregatedHttpResponse upload(String pipeline, String file) throws Exception {
    Multipart form = Multipart.of(BodyPart.of(ContentDisposition.builder("form-data").name("image").filename(file)
        .build(), HttpData.wrap(Files.readAllBytes(GOLDEN.resolve(file)))));
    return http.execute(form.toHttpRequest("/v1/pipelines/" + pipeline));
  }

  private static AggregatedHttpResponse postJson(String path, String json) {
    return http.prepare().post(path).content(MediaType.JSON, json).execute();
  }

  @Test
  void anUploadedImageIsClassifiedByTheBuiltInPipeline() throws Exception {
    AggregatedHttpResponse upright = upload("text-orientation", "upright.png");
    AggregatedHttpResponse rotated = upload("text-orientation", "rotated.png");

    assertThat(upright.status()).isEqualTo(HttpStatus.OK);
    assertThat(upright.contentType().is(MediaType.JSON)).isTrue();
    JsonNode first = MAPPER.readTree(upright.contentUtf8());
    JsonNode second = MAPPER.readTree(rotated.contentUtf8());
    assertThat(first.get("label").asText()).isEqualTo("0");
    assertThat(second.get("label").asText()).isEqualTo("180");
    // The golden images are the golden input's pixels: the same probabilities as the model's golden output.
    assertThat(first.get("score").doubleValue()).isCloseTo(goldenOutput[0], within(1e-5));
    assertThat(second.get("score").doubleValue()).isCloseTo(goldenOutput[3], within(1e-5));
  }

  @Test
  void jsonTakesBytesAsBase64AndAnswersWithNodeTimingsWhenAsked() throws Exception {
    String image = Base64.getEncoder().encodeToString(Files.readAllBytes(GOLDEN.resolve("rotated.png")));
    AggregatedHttpResponse response =
        postJson("/v1/pipelines/text-orientation?timings=true", "{\"image\": {\"b64\": \"" + image + "\"}}");

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    assertThat(MAPPER.readTree(response.contentUtf8()).get("label").asText()).isEqualTo("180");
    String timing = response.headers().get("server-timing");
    assertThat(timing).matches("decode;dur=[0-9.]+, resize;dur=[0-9.]+, normalize;dur=[0-9.]+, batch;dur=[0-9.]+,"
        + " classify;dur=[0-9.]+, top;dur=[0-9.]+, label;dur=[0-9.]+, score;dur=[0-9.]+");
  }

  @Test
  void typedInputsAreReadFromNestedListsAndOutputsWrittenInTheirShape() throws Exception {
    AggregatedHttpResponse response = postJson("/v1/pipelines/scores", "{\"x\": [[0, 0.5, 1, 0]]}");

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    JsonNode body = MAPPER.readTree(response.contentUtf8());
    assertThat(body.get("affine").toString()).isEqualTo("[[1.0,2.0,3.0,1.0]]");
    assertThat(body.get("probabilities").get(0).get(2).doubleValue())
        .isCloseTo(Math.exp(3) / (2 * Math.E + Math.exp(2) + Math.exp(3)), within(1e-6));
    assertThat(response.headers().get("server-timing")).isNull();
  }

  @Test
  void everyBadRequestIsNamedPrecisely() throws Exception {
    // Every pipeline of both repositories is listed, in name order: the built-in ones of models/ among them.
    String pipelines = "\\(pipelines: (.*, )?patient, scores, (.*, )?text-orientation(, .*)?\\)";
    assertErrorMatches(postJson("/v1/pipelines/nope", "{}"), HttpStatus.NOT_FOUND, "no pipeline 'nope' " + pipelines);
    assertErrorMatches(postJson("/v1/pipelines/affine", "{}"), HttpStatus.NOT_FOUND,
        "no pipeline 'affine' " + pipelines);
    assertError(postJson("/v1/pipelines/scores", "{\"y\": 1}"), HttpStatus.BAD_REQUEST,
        "unknown input 'y' (pipeline 'scores' takes: x)");
    assertError(postJson("/v1/pipelines/scores", "{\"x\": [[1, 2, 3]]}"), HttpStatus.BAD_REQUEST,
        "input 'x': has shape [1,3] (expected: [-1,4])");
    assertError(postJson("/v1/pipelines/scores", "{\"x\": [[1, 2, 3, \"4\"]]}"), HttpStatus.BAD_REQUEST,
        "input 'x': element 3 is \"4\" (expected: a finite number)");
    assertError(postJson("/v1/pipelines/scores", "[1]"), HttpStatus.BAD_REQUEST,
        "the request is not a JSON object of inputs (expected: {\"x\": ...})");
    assertError(postJson("/v1/pipelines/scores", "{\"x\": "), HttpStatus.BAD_REQUEST,
        "malformed JSON in the request: Unexpected end-of-input within/between Object entries (at byte 6)");
    assertError(postJson("/v1/pipelines/text-orientation", "{\"image\": {\"b64\": \"%%\"}}"), HttpStatus.BAD_REQUEST,
        "input 'image': b64 is not base64: Illegal base64 character 25");
    assertError(postJson("/v1/pipelines/text-orientation", "{\"image\": \"not an image\"}"), HttpStatus.BAD_REQUEST,
        "pipeline 'text-orientation': node 'decode': input 'image': not a JPEG or PNG image (first bytes 6e 6f 74 20)");
    assertError(postJson("/v1/pipelines/scores?timings=yes", "{}"), HttpStatus.BAD_REQUEST,
        "query parameter timings is 'yes' (expected: true or false)");
    assertError(http.prepare().post("/v1/pipelines/scores").content(MediaType.PLAIN_TEXT, "x=1").execute(),
        HttpStatus.BAD_REQUEST,
        "Content-Type 'text/plain' is not supported (expected: application/json or"
            + " multipart/form-data)");
  }

  private static void assertError(AggregatedHttpResponse response, HttpStatus status, String message)
      throws Exception {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(status);
    assertThat(MAPPER.readTree(response.contentUtf8()).get("error").asText()).isEqualTo(message);
  }

  private static void assertErrorMatches(AggregatedHttpResponse response, HttpStatus status, String regex)
      throws Exception {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(status);
    assertThat(MAPPER.readTree(response.contentUtf8()).get("error").asText()).matches(regex);
  }

  @Test
  void aNodePastItsTimeoutFallsBackAndTheV2AnswerSaysSo() throws Exception {
    AggregatedHttpResponse response = postJson("/v2/models/patient/infer", "{\"parameters\":"
        + " {\"serval_node_timings\": true}, \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4],"
        + " \"data\": [1, 2, 3, 4]}]}");

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    JsonNode body = MAPPER.readTree(response.contentUtf8());
    assertThat(body.get("outputs").get(0).get("data").toString()).isEqualTo("[0.0,0.0,0.0,0.0]");
    assertThat(body.get("parameters").get("serval_node_fallback.model").asText()).isEqualTo("DEADLINE_EXCEEDED");
    assertThat(body.get("parameters").get("serval_node_us.model").asLong()).isGreaterThanOrEqualTo(50_000);
  }
}
