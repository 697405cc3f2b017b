package io.serval.server;

import static io.serval.server.TestRepositories.MODEL;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A repository with broken models next to good ones: each failure is reported, and the good ones serve. */
class ModelRepositoryTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  @TempDir static Path repository;
  private static RunningServer server;
  private static BlockingWebClient client;

  @BeforeAll
  static void start() throws Exception {
    TestRepositories.copyBuiltIn(repository, MODEL);
    TestRepositories.onnxModel(repository, "broken_config",
        "max_batch_size: -3\ninstnces: 2\ninputs:\n  - name: x\n    datatype: FP99\n    dims: [3, 48, 192]\n", 1);
    TestRepositories.onnxModel(repository, "wrong_dims",
        "max_batch_size: 2\ninputs:\n  - name: x\n    datatype: FP32\n    dims: [3, 48]\n", 1);
    TestRepositories.onnxModel(repository, "no_versions", "max_batch_size: 2\n");
    Path corrupt = TestRepositories.onnxModel(repository, "corrupt_model", null);
    Files.createDirectories(corrupt.resolve("1"));
    Files.writeString(corrupt.resolve("1").resolve("model.onnx"), "not an onnx file");
    TestRepositories.onnxModel(repository, "latest_two", "version_policy:\n  latest: 2\n", 1, 2, 3);
    TestRepositories.onnxModel(repository, "specific", "version_policy:\n  specific: [1, 5]\n", 1, 2);
    server = RunningServer.start(repository);
    client = WebClient.of(server.httpUri()).blocking();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void servesTheGoodModelDespiteTheBrokenOnes() {
    String request = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3,48,192],\"data\":"
        + MAPPER.valueToTree(new float[3 * 48 * 192]) + "}]}";

    assertThat(client.execute(HttpRequest.of(HttpMethod.POST, "/v2/models/" + MODEL + "/infer", MediaType.JSON,
        request)).status()).isEqualTo(HttpStatus.OK);
  }

  @Test
  void reportsEveryConfigErrorWithFileAndField() throws Exception {
    String reason = index("broken_config", "").get("reason").asText();
    String file = repository.resolve("broken_config").resolve("config.yaml").toString();

    assertThat(reason)
        .contains(file + ": instnces: unknown field (expected one of: ")
        .contains(file + ": max_batch_size: -3 (expected: 0 to 2147483647)")
        .contains(file + ": inputs[0].datatype: 'FP99' (expected: one of BOOL");
  }

  @Test
  void reportsConfigThatDisagreesWithTheModel() throws Exception {
    JsonNode entry = index("wrong_dims", "1");

    assertThat(entry.get("state").asText()).isEqualTo("UNAVAILABLE");
    assertThat(entry.get("reason").asText()).contains("inputs[0].dims: [3,48] has rank 2 but 'x' in ")
        .contains("(expected: rank 3 without the batch dimension)");
  }

  @Test
  void reportsMissingVersionFoldersAndUnloadableFiles() throws Exception {
    assertThat(index("no_versions", "").get("reason").asText()).contains("has no version folders");
    assertThat(index("corrupt_model", "1").get("reason").asText()).contains("onnxruntime cannot load");
    assertThat(client.get("/v2/models/corrupt_model/ready").status()).isEqualTo(HttpStatus.BAD_REQUEST);
  }

  @Test
  void appliesVersionPolicies() throws Exception {
    assertThat(MAPPER.readTree(client.get("/v2/models/latest_two").contentUtf8()).get("versions").toString())
        .isEqualTo("[\"3\",\"2\"]");
    assertThat(client.get("/v2/models/latest_two/versions/1/ready").status()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(index("specific", "1").get("state").asText()).isEqualTo("READY");
    assertThat(index("specific", "5").get("reason").asText()).contains("version 5 is in the version policy");
  }

  @Test
  void isNotReadyWhileAModelIsBrokenButStaysLive() {
    assertThat(client.get("/v2/health/live").status()).isEqualTo(HttpStatus.OK);
    assertThat(client.get("/v2/health/ready").status()).isEqualTo(HttpStatus.BAD_REQUEST);
  }

  private static JsonNode index(String model, String version) throws Exception {
    JsonNode index = MAPPER.readTree(client.post("/v2/repository/index", "").contentUtf8());
    for (JsonNode entry : index) {
      if (entry.get("name").asText().equals(model) && entry.get("version").asText().equals(version)) {
        return entry;
      }
    }
    throw new AssertionError("no index entry for " + model + " version '" + version + "' in " + index);
  }
}
