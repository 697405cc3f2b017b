package io.serval.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.protocol.v2.ModelConfig;
import io.serval.protocol.v2.ModelMetadataResponse;
import io.serval.protocol.v2.ModelStatisticsResponse;
import io.serval.protocol.v2.RepositoryIndexResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every call of the client, over HTTP and over gRPC, against a real Serval (explicit model control, a token with
 * every scope, the management listener on its own port) serving test-engine models ({@code y = 2x + 1}): {@code
 * affine} in versions 1 and 2 with the label {@code stable}, {@code left} and {@code right} behind the A/B route
 * {@code ab}, and {@code spare} to unload and load.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CallsTest {
  private RealServer server;
  private final Map<Transport, ServalClient> clients = new EnumMap<>(Transport.class);

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Path repo = Files.createDirectories(dir.resolve("models"));
    RealServer.testModel(repo, "affine", """
        max_batch_size: 8
        version_policy: {all: true}
        version_labels: {stable: 1}
        dynamic_batching:
          priority_levels: 2
          default_priority_level: 2
          default_queue_policy: {allow_timeout_override: true}
        """);
    Files.createDirectories(repo.resolve("affine").resolve("2"));
    Files.copy(repo.resolve("affine").resolve("1").resolve("model.test"),
        repo.resolve("affine").resolve("2").resolve("model.test"));
    RealServer.testModel(repo, "left", "max_batch_size: 8\n");
    RealServer.testModel(repo, "right", "max_batch_size: 8\n");
    RealServer.testModel(repo, "spare", "max_batch_size: 8\n");
    Files.writeString(Files.createDirectories(repo.resolve("ab")).resolve("route.yaml"), """
        variants:
          - {name: a, model: left, weight: 50}
          - {name: b, model: right, weight: 50}
        """);
    server = RealServer.start(repo.toString(), "--config=" + RealServer.securedConfig(dir, ""),
        "--model_control_mode=explicit");
    for (Transport transport : Transport.values()) {
      clients.put(transport, ServalClient.builder()
          .transport(transport)
          .endpoint(server.endpoint(transport))
          .managementEndpoint(server.management())
          .bearerToken(RealServer.TOKEN)
          .build());
    }
  }

  @AfterAll
  void stop() {
    clients.values().forEach(ServalClient::close);
    server.close();
  }

  private static InferRequest affine(String model, float... row) {
    return InferRequest.builder(model).input(InferTensor.ofFloats("x", new long[] {1, 4}, row)).build();
  }

  private static void assertAffine(InferResult result, float... row) {
    float[] expected = new float[row.length];
    for (int i = 0; i < row.length; i++) {
      expected[i] = 2 * row[i] + 1;
    }
    assertThat(result.output("y").toFloatArray()).containsExactly(expected);
    assertThat(result.output("y").shape()).containsExactly(1, 4);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void answersHealthAndReadiness(Transport transport) {
    ServalClient client = clients.get(transport);
    assertThat(client.isLive()).isTrue();
    assertThat(client.isReady()).isTrue();
    assertThat(client.isModelReady("affine")).isTrue();
    assertThat(client.isModelReady("affine", "2")).isTrue();
    assertThat(client.isModelReady("no_such_model")).isFalse();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void readsServerAndModelMetadata(Transport transport) {
    ServalClient client = clients.get(transport);
    assertThat(client.serverMetadata().getName()).isEqualTo("serval");
    assertThat(client.serverMetadata().getExtensionsList()).contains("binary_tensor_data");

    ModelMetadataResponse metadata = client.modelMetadata("affine");
    assertThat(metadata.getName()).isEqualTo("affine");
    assertThat(metadata.getVersionsList()).containsExactlyInAnyOrder("1", "2");
    assertThat(metadata.getInputs(0).getName()).isEqualTo("x");
    assertThat(metadata.getInputs(0).getDatatype()).isEqualTo("FP32");
    assertThat(metadata.getInputs(0).getShapeList()).containsExactly(-1L, 4L);
    assertThat(client.modelMetadata("affine", "2").getVersionsList()).contains("2");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void readsModelConfig(Transport transport) {
    ModelConfig config = clients.get(transport).modelConfig("affine");
    assertThat(config.getName()).isEqualTo("affine");
    assertThat(config.getMaxBatchSize()).isEqualTo(8);
    assertThat(config.getInput(0).getName()).isEqualTo("x");
    assertThat(config.getDynamicBatching().getPriorityLevels()).isEqualTo(2);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void countsInferencesInStatistics(Transport transport) {
    ServalClient client = clients.get(transport);
    long before = successes(client.modelStatistics("affine", "1"));
    client.infer(InferRequest.builder("affine").version(1).input(InferTensor.ofFloats("x", new long[] {1, 4},
        1, 2, 3, 4)).build());
    assertThat(successes(client.modelStatistics("affine", "1"))).isEqualTo(before + 1);
    assertThat(client.modelStatistics().getModelStatsList()).extracting(stats -> stats.getName())
        .contains("affine", "left", "right");
  }

  private static long successes(ModelStatisticsResponse statistics) {
    return statistics.getModelStats(0).getInferenceStats().getSuccess().getCount();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void infersSyncAndAsync(Transport transport) throws Exception {
    ServalClient client = clients.get(transport);
    InferResult result = client.infer(InferRequest.builder("affine").id("call-1").output("y")
        .input(InferTensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)).build());
    assertAffine(result, 1, 2, 3, 4);
    assertThat(result.id()).isEqualTo("call-1");
    assertThat(result.modelName()).isEqualTo("affine");

    CompletableFuture<InferResult> async = client.inferAsync(affine("affine", 5, 6, 7, 8));
    assertAffine(async.get(), 5, 6, 7, 8);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void infersWithVersionLabelPriorityAndTimeouts(Transport transport) {
    ServalClient client = clients.get(transport);
    InferResult labelled = client.infer(InferRequest.builder("affine").version("stable")
        .input(InferTensor.ofFloats("x", new long[] {1, 4}, 1, 1, 1, 1))
        .priority(1)
        .queueTimeout(Duration.ofSeconds(5))
        .timeout(Duration.ofSeconds(10))
        .build());
    assertAffine(labelled, 1, 1, 1, 1);
    assertThat(labelled.modelVersion()).isEqualTo("1");
    assertThat(client.infer(InferRequest.builder("affine").version(2)
        .input(InferTensor.ofFloats("x", new long[] {1, 4}, 0, 0, 0, 0)).build()).modelVersion()).isEqualTo("2");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void keepsARouteKeyOnOneVariantAndForcesAVariant(Transport transport) {
    ServalClient client = clients.get(transport);
    Set<String> variants = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      InferResult result = client.infer(InferRequest.builder("ab").routeKey("user-42")
          .input(InferTensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)).build());
      assertAffine(result, 1, 2, 3, 4);
      variants.add(result.variant());
      assertThat(result.modelName()).isEqualTo(result.variant().equals("a") ? "left" : "right");
    }
    assertThat(variants).hasSize(1);
    for (String forced : List.of("a", "b")) {
      InferResult result = client.infer(InferRequest.builder("ab").variant(forced)
          .input(InferTensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)).build());
      assertThat(result.variant()).isEqualTo(forced);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void streamsRequestsAndAnswersEachWithItsId(Transport transport) {
    ServalClient client = clients.get(transport);
    List<InferResult> results = Collections.synchronizedList(new ArrayList<>());
    List<ServalClientException> errors = Collections.synchronizedList(new ArrayList<>());
    try (InferStream stream = client.openStream(results::add, errors::add)) {
      for (int i = 0; i < 20; i++) {
        stream.send(InferRequest.builder("affine").id("s" + i)
            .input(InferTensor.ofFloats("x", new long[] {1, 4}, i, i, i, i)).build());
      }
      stream.send(InferRequest.builder("affine").id("bad")
          .input(InferTensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3)).build());
    }
    assertThat(results).hasSize(20);
    for (InferResult result : results) {
      float i = Float.parseFloat(result.id().substring(1));
      assertAffine(result, i, i, i, i);
    }
    assertThat(errors).singleElement().satisfies(error ->
        assertThat(error.serverMessage()).contains("'x'"));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void listsLoadsAndUnloadsModels(Transport transport) {
    ServalClient client = clients.get(transport);
    assertThat(client.repositoryIndex()).extracting(RepositoryIndexResponse.ModelIndex::getName)
        .contains("affine", "left", "right", "spare", "ab");
    client.unloadModel("spare");
    assertThat(client.isModelReady("spare")).isFalse();
    assertThat(client.repositoryIndex(true)).extracting(RepositoryIndexResponse.ModelIndex::getName)
        .doesNotContain("spare");
    client.loadModel("spare");
    assertThat(client.isModelReady("spare")).isTrue();
    assertAffine(client.infer(affine("spare", 1, 2, 3, 4)), 1, 2, 3, 4);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void changesVersionLabelsAndTheDefaultVersion(Transport transport) {
    ServalClient client = clients.get(transport);
    assertThat(client.versionLabels("affine").labels()).containsEntry("stable", 1L);
    VersionLabels changed = client.setVersionLabel("affine", "canary", 2);
    assertThat(changed.labels()).containsEntry("canary", 2L);
    assertThat(client.infer(InferRequest.builder("affine").version("canary")
        .input(InferTensor.ofFloats("x", new long[] {1, 4}, 0, 0, 0, 0)).build()).modelVersion()).isEqualTo("2");
    assertThat(client.setDefaultVersion("affine", "canary").defaultVersion()).isEqualTo("canary");
    assertThat(client.infer(affine("affine", 0, 0, 0, 0)).modelVersion()).isEqualTo("2");
    client.setDefaultVersion("affine", "1");
    assertThat(client.removeVersionLabel("affine", "canary").labels()).doesNotContainKey("canary");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void changesRouteWeights(Transport transport) {
    ServalClient client = clients.get(transport);
    assertThat(client.setRouteWeights("ab", Map.of("a", 0, "b", 100))).containsEntry("a", 0).containsEntry("b", 100);
    assertThat(client.routeWeights("ab")).containsEntry("b", 100);
    for (int i = 0; i < 5; i++) {
      assertThat(client.infer(affine("ab", 1, 2, 3, 4)).variant()).isEqualTo("b");
    }
    client.setRouteWeights("ab", Map.of("a", 50, "b", 50));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void reportsErrorsAsTypedExceptions(Transport transport) {
    ServalClient client = clients.get(transport);
    assertThatThrownBy(() -> client.infer(affine("no_such_model", 1, 2, 3, 4)))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("no_such_model");
    assertThatThrownBy(() -> client.infer(InferRequest.builder("affine")
            .input(InferTensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3)).build()))
        .isInstanceOfSatisfying(InvalidRequestException.class, error -> {
          assertThat(error.serverMessage()).contains("'x'");
          if (transport == Transport.HTTP) {
            assertThat(error.httpStatus()).isEqualTo(400);
            assertThat(error.requestId()).isNotBlank();
          } else {
            assertThat(error.grpcStatus()).isEqualTo("INVALID_ARGUMENT");
          }
        });
    assertThatThrownBy(() -> client.setRouteWeights("ab", Map.of("a", 0, "b", 0)))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> client.modelMetadata("no_such_model")).isInstanceOf(NotFoundException.class);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void refusesManagementCallsWithoutTheManagementListener(Transport transport) {
    try (ServalClient noManagement = ServalClient.builder().transport(transport)
        .endpoint(server.endpoint(transport)).bearerToken(RealServer.TOKEN).build()) {
      assertThatThrownBy(() -> noManagement.unloadModel("spare"))
          .isInstanceOfAny(NotFoundException.class, UnsupportedCallException.class)
          .hasMessageContaining("management");
    }
  }
}
