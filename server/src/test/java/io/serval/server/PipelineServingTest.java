package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline served from the repository like a model, over HTTP and gRPC: the exact affine model (y = 2x + 1)
 * followed by a softmax, beside a pipeline that does not compile.
 */
class PipelineServingTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir static Path repository;
  private static RunningServer server;
  private static BlockingWebClient http;

  @BeforeAll
  static void start() throws Exception {
    TestRepositories.scoresPipeline(repository);
    TestRepositories.pairedModel(repository);
    Files.createDirectories(repository.resolve("paired_scores"));
    Files.writeString(repository.resolve("paired_scores").resolve("pipeline.yaml"), """
        inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]
        outputs: [{name: y, from: model.y}]
        nodes: [{name: model, op: infer, inputs: {x: x}, params: {model: paired}}]
        """);
    // l2_normalize comes from its own jar (examples/l2-normalize-operator), found by ServiceLoader.
    Files.createDirectories(repository.resolve("unit"));
    Files.writeString(repository.resolve("unit").resolve("pipeline.yaml"), """
        inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]
        outputs: [{name: y, from: norm.y}]
        nodes:
          - {name: model, op: infer, inputs: {x: x}, params: {model: affine}}
          - {name: norm, op: l2_normalize, inputs: {x: model.y}}
        """);
    Files.createDirectories(repository.resolve("halves"));
    Files.writeString(repository.resolve("halves").resolve("pipeline.yaml"), """
        inputs: [{name: x, datatype: FP32, dims: [-1]}]
        outputs: [{name: y, from: split.y}]
        nodes: [{name: split, op: reshape, inputs: {x: x}, params: {shape: [2, -1]}}]
        """);
    Files.createDirectories(repository.resolve("broken"));
    Files.writeString(repository.resolve("broken").resolve("pipeline.yaml"), """
        inputs: [{name: x, datatype: FP32, dims: [4]}]
        outputs: [{name: y, from: n.y}]
        nodes: [{name: n, op: nope, inputs: {x: x}}]
        """);
    server = RunningServer.start(repository);
    http = WebClient.builder(server.httpUri()).build().blocking();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static AggregatedHttpResponse infer(String model, String json) {
    return http.prepare().post("/v2/models/" + model + "/infer").content(MediaType.JSON, json).execute();
  }

  @Test
  void answersOverHttpWithEveryNodesResult() throws Exception {
    AggregatedHttpResponse response = infer("scores",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [0, 0.5, 1, 0]}]}");

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    JsonNode body = MAPPER.readTree(response.contentUtf8());
    assertThat(body.get("model_name").asText()).isEqualTo("scores");
    JsonNode probabilities = body.get("outputs").get(0);
    assertThat(probabilities.get("name").asText()).isEqualTo("probabilities");
    assertThat(probabilities.get("shape").toString()).isEqualTo("[1,4]");
    // affine: (1, 2, 3, 1); softmax: e^v / (2e + e^2 + e^3)
    double sum = 2 * Math.E + Math.exp(2) + Math.exp(3);
    double[] expected = {Math.E / sum, Math.exp(2) / sum, Math.exp(3) / sum, Math.E / sum};
    for (int i = 0; i < 4; i++) {
      assertThat(probabilities.get("data").get(i).doubleValue()).isCloseTo(expected[i], within(1e-6));
    }
    assertThat(body.get("outputs").get(1).get("data").toString()).isEqualTo("[1.0,2.0,3.0,1.0]");
  }

  @Test
  void answersOverGrpc() {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc =
        GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
    ModelInferResponse response = grpc.modelInfer(ModelInferRequest.newBuilder()
        .setModelName("scores")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(2).addShape(4))
        .addRawInputContents(ByteString.copyFrom(TestRepositories.littleEndian(new float[] {0, 0, 0, 0, 1, 1, 1, 1})))
        .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("affine"))
        .build());

    assertThat(response.getOutputsList()).singleElement().satisfies(output -> {
      assertThat(output.getName()).isEqualTo("affine");
      assertThat(output.getShapeList()).containsExactly(2L, 4L);
    });
    assertThat(response.getRawOutputContents(0).toByteArray())
        .isEqualTo(TestRepositories.littleEndian(new float[] {1, 1, 1, 1, 3, 3, 3, 3}));
  }

  @Test
  void runsAnOperatorFromItsOwnJar() throws Exception {
    AggregatedHttpResponse response = infer("unit",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1, 1, 1, 0.5]}]}");

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    // affine: (3, 3, 3, 2), of length sqrt(31)
    JsonNode data = MAPPER.readTree(response.contentUtf8()).get("outputs").get(0).get("data");
    double length = Math.sqrt(31);
    for (int i = 0; i < 4; i++) {
      assertThat(data.get(i).doubleValue()).isCloseTo((i < 3 ? 3 : 2) / length, within(1e-6));
    }
  }

  @Test
  void describesItselfLikeAModel() throws Exception {
    JsonNode metadata = MAPPER.readTree(http.get("/v2/models/scores").contentUtf8());
    assertThat(metadata.get("platform").asText()).isEqualTo("serval_pipeline");
    assertThat(metadata.get("versions").toString()).isEqualTo("[\"1\"]");
    assertThat(metadata.get("inputs").toString())
        .isEqualTo("[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]");
    assertThat(http.get("/v2/models/scores/ready").status()).isEqualTo(HttpStatus.OK);
    JsonNode config = MAPPER.readTree(http.get("/v2/models/scores/config").contentUtf8());
    assertThat(config.get("platform").asText()).isEqualTo("serval_pipeline");
    assertThat(config.get("output").size()).isEqualTo(2);
  }

  @Test
  void aPipelineThatDoesNotCompileIsListedWithItsReasonAndTheRestServe() throws Exception {
    JsonNode index = MAPPER.readTree(http.prepare().post("/v2/repository/index").content(MediaType.JSON, "{}")
        .execute().contentUtf8());
    JsonNode broken = null;
    for (JsonNode entry : index) {
      if (entry.get("name").asText().equals("broken")) {
        broken = entry;
      }
    }
    assertThat(broken).isNotNull();
    assertThat(broken.get("state").asText()).isEqualTo("UNAVAILABLE");
    // The list of operators names every installed one, built-in and from jars.
    assertThat(broken.get("reason").asText())
        .startsWith("pipeline.yaml: node 'n': op: 'nope' is not an operator (expected one of: ")
        .contains("infer, ", "l2_normalize, ", "softmax");

    AggregatedHttpResponse refused = infer("broken",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [4], \"data\": [0, 0, 0, 0]}]}");
    assertThat(refused.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(refused.contentUtf8()).contains("pipeline 'broken' is unavailable: pipeline.yaml: node 'n'");
    assertThat(http.get("/v2/models/broken/ready").status()).isNotEqualTo(HttpStatus.OK);
  }

  @Test
  void anInferNodeIsBatchedWithDirectCallsToItsModel() throws Exception {
    String row = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1, 2, 3, 4]}]}";
    WebClient async = WebClient.of(server.httpUri());
    CompletableFuture<AggregatedHttpResponse> direct =
        async.prepare().post("/v2/models/paired/infer").content(MediaType.JSON, row).execute().aggregate();
    CompletableFuture<AggregatedHttpResponse> viaPipeline =
        async.prepare().post("/v2/models/paired_scores/infer").content(MediaType.JSON, row).execute().aggregate();

    assertThat(direct.get(30, TimeUnit.SECONDS).status()).isEqualTo(HttpStatus.OK);
    assertThat(viaPipeline.get(30, TimeUnit.SECONDS).status()).isEqualTo(HttpStatus.OK);
    JsonNode stats = MAPPER.readTree(http.get("/v2/models/paired/stats").contentUtf8()).get("model_stats").get(0);
    assertThat(stats.get("inference_count").asLong()).isEqualTo(2);
    assertThat(stats.get("execution_count").asLong()).isEqualTo(1);
    assertThat(stats.get("batch_stats").get(0).get("batch_size").asLong()).isEqualTo(2);
    JsonNode pipelineStats =
        MAPPER.readTree(http.get("/v2/models/paired_scores/stats").contentUtf8()).get("model_stats").get(0);
    assertThat(pipelineStats.get("inference_stats").get("success").get("count").asLong()).isEqualTo(1);
  }

  @Test
  void aFailingNodeIsNamedWithItsStatus() throws Exception {
    AggregatedHttpResponse response = infer("halves",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [3], \"data\": [1, 2, 3]}]}");

    assertThat(response.status()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(MAPPER.readTree(response.contentUtf8()).get("error").asText()).isEqualTo("pipeline 'halves': node"
        + " 'split': input 'x': shape [2,-1] cannot hold the 3 elements of shape [3]");
    String metrics = WebClient.of("http://127.0.0.1:" + server.metricsPort).blocking().get("/metrics").contentUtf8();
    assertThat(metrics).contains(
        "serval_pipeline_node_seconds_count{node=\"split\",outcome=\"invalid_argument\",pipeline=\"halves\"} 1\n");
  }
}
