package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.auth.AuthToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Engine choice per model, in one server: every built-in model served by ONNX Runtime and by OpenVINO side by side
 * (their outputs compared by {@code python/engines/test_engines.py} over HTTP and gRPC with Triton's clients),
 * {@code backend: auto}, a TensorRT model on this GPU-less machine, instance groups and the shared CPU budget.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EnginesTest {
  private static final List<String> BUILT_IN = List.of("digits", "spam", "ocr_det", "ocr_orientation", "ocr_rec");
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MANAGE_TOKEN = "engines-test-token";

  @TempDir static Path repo;
  private RunningServer server;
  private BlockingWebClient http;
  private BlockingWebClient manage;

  @BeforeAll
  void start() throws Exception {
    PythonClients.setUp();
    for (String model : BUILT_IN) {
      TestRepositories.copyTree(TestRepositories.MODELS.resolve(model), repo.resolve(model));
      TestRepositories.copyTree(TestRepositories.MODELS.resolve(model), repo.resolve(model + "_openvino"));
      withBackend(repo.resolve(model + "_openvino"), "openvino", "");
    }
    Path orientation = TestRepositories.MODELS.resolve("ocr_orientation");
    TestRepositories.copyTree(orientation, repo.resolve("orientation_auto"));
    withBackend(repo.resolve("orientation_auto"), "auto", "instance_group: [{count: 2, kind: cpu}]\n");
    TestRepositories.copyTree(orientation, repo.resolve("orientation_tensorrt"));
    withBackend(repo.resolve("orientation_tensorrt"), "tensorrt", "required: false\n");
    TestRepositories.copyTree(orientation, repo.resolve("orientation_on_gpu"));
    withBackend(repo.resolve("orientation_on_gpu"), "onnxruntime",
        "required: false\ninstance_group: [{kind: KIND_GPU, gpus: [0]}]\n");
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(MANAGE_TOKEN.getBytes(StandardCharsets.UTF_8)));
    Path config = Files.writeString(repo.resolveSibling(repo.getFileName() + "-serval.yaml"),
        "auth:\n  tokens:\n    - {name: ops, sha256: " + hash + ", scopes: [manage, infer, metrics]}\n");
    server = RunningServer.start(repo, "--config=" + config, "--cpu_threads=2");
    http = WebClient.builder(server.httpUri()).auth(AuthToken.ofOAuth2(MANAGE_TOKEN)).build().blocking();
    manage = WebClient.builder("http://127.0.0.1:" + server.server.ports().get(3))
        .auth(AuthToken.ofOAuth2(MANAGE_TOKEN)).build().blocking();
  }

  /** Sets the folder's {@code backend} (and replaces {@code instances} with {@code extra}'s fields). */
  private static void withBackend(Path model, String backend, String extra) throws IOException {
    Path config = model.resolve("config.yaml");
    String text = Files.readString(config).replaceAll("(?m)^backend: .*$", "backend: " + backend);
    if (!extra.isEmpty()) {
      text = text.replaceAll("(?m)^instances: .*\\n", "") + extra;
    }
    Files.writeString(config, text);
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private JsonNode json(BlockingWebClient client, String path) throws IOException {
    AggregatedHttpResponse response = client.get(path);
    assertThat(response.status().code()).as("GET %s: %s", path, response.contentUtf8()).isEqualTo(200);
    return MAPPER.readTree(response.contentUtf8());
  }

  @Test
  void everyBuiltInModelGivesTheSameOutputsOnOpenVinoAsOnOnnxRuntimeOverHttpAndGrpc() throws Exception {
    Map<String, String> environment = new HashMap<>();
    environment.put("SERVAL_HTTP_URL", "localhost:" + server.httpPort);
    environment.put("SERVAL_GRPC_URL", "localhost:" + server.grpcPort);
    environment.put("SERVAL_TOKEN", MANAGE_TOKEN);
    environment.put("SERVAL_ENGINE_MODELS", String.join(",", BUILT_IN));
    String output = PythonClients.run(List.of(PythonClients.python(), "-m", "pytest",
        PythonClients.TESTS.resolve("engines").toString(), "-v", "-p", "no:cacheprovider"), environment, 600);

    assertThat(output).contains("10 passed").doesNotContain(" failed", " error");
  }

  @Test
  void metadataAndConfigNameTheEngineThatServesEachModel() throws Exception {
    assertThat(json(http, "/v2/models/digits").path("platform").asText()).isEqualTo("onnxruntime_onnx");
    assertThat(json(http, "/v2/models/digits_openvino").path("platform").asText()).isEqualTo("openvino");
    JsonNode openvino = json(http, "/v2/models/digits_openvino/config");
    assertThat(openvino.path("backend").asText()).isEqualTo("openvino");

    // auto picks ONNX Runtime on this x86-64 machine without a GPU, and says so; two CPU instances as asked.
    JsonNode auto = json(http, "/v2/models/orientation_auto/config");
    assertThat(auto.path("backend").asText()).isEqualTo("onnxruntime");
    assertThat(auto.path("platform").asText()).isEqualTo("onnxruntime_onnx");
    assertThat(auto.path("instance_group").get(0).path("count").asInt()).isEqualTo(2);
    assertThat(auto.path("instance_group").get(0).path("kind").asText()).isEqualTo("KIND_CPU");
  }

  @Test
  void tensorRtWithoutAGpuIsUnavailableWithItsReasonWhileEveryOtherModelServes() throws Exception {
    JsonNode engines = json(manage, "/v1/engines");
    assertThat(engines.path("tensorrt").asText()).startsWith("unavailable").contains("natives");

    JsonNode index = MAPPER.readTree(http.prepare().post("/v2/repository/index").execute().contentUtf8());
    Map<String, JsonNode> byName = new HashMap<>();
    index.forEach(entry -> byName.put(entry.path("name").asText(), entry));
    assertThat(byName.get("orientation_tensorrt").path("state").asText()).isEqualTo("UNAVAILABLE");
    assertThat(byName.get("orientation_tensorrt").path("reason").asText())
        .isEqualTo("backend 'tensorrt' is " + engines.path("tensorrt").asText());
    assertThat(byName.get("orientation_on_gpu").path("reason").asText())
        .isEqualTo("instance_group: backend 'onnxruntime' runs on [cpu] only, not gpu:0");
    for (String model : BUILT_IN) {
      assertThat(byName.get(model).path("state").asText()).as(model).isEqualTo("READY");
      assertThat(byName.get(model + "_openvino").path("state").asText()).as(model).isEqualTo("READY");
    }
    assertThat(http.get("/v2/health/ready").status().code()).isEqualTo(200);
  }

  @Test
  void theTwoEnginesShareOneCpuBudgetInsteadOfEachTakingEveryCore() throws Exception {
    // --cpu_threads=2, and models name both ONNX Runtime and OpenVINO at start: one thread each.
    JsonNode engines = json(manage, "/v1/engines");
    // ONNX Runtime's pool is one per process: another server of this test run may have sized it already.
    assertThat(engines.path("onnxruntime").asText()).satisfiesAnyOf(
        state -> assertThat(state).startsWith("available: 1 intra-op thread "),
        state -> assertThat(state).contains("this engine asked for 1, "));
    assertThat(engines.path("openvino").asText()).startsWith("available: up to 1 intra-op thread per instance");
    assertThat(engines.path("arm").asText()).isEqualTo("not started (no model has asked for it)");
  }
}
