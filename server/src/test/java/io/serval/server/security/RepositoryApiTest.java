package io.serval.server.security;

import static io.serval.server.security.SecuredServer.INFER_TOKEN;
import static io.serval.server.security.SecuredServer.MANAGE_TOKEN;
import static io.serval.server.security.SecuredServer.MODEL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.auth.AuthToken;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.RepositoryIndexRequest;
import io.serval.protocol.v2.RepositoryModelLoadRequest;
import io.serval.protocol.v2.RepositoryModelUnloadRequest;
import io.serval.protocol.v2.ServerMetadataRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Triton's repository extension in {@code explicit} model control mode, over HTTP and gRPC on the management
 * listener with a {@code manage} token: unload, load again, load a folder added after the start, a load that
 * fails, and every name or parameter the API does not take.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RepositoryApiTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private SecuredServer server;
  private Path models;
  private BlockingWebClient manage;
  private BlockingWebClient infer;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    server = SecuredServer.start(dir, SecuredServer.TOKENS_YAML, "--model_control_mode=explicit");
    models = dir.resolve("models");
    manage = WebClient.builder(server.uri("http", server.managementPort)).auth(AuthToken.ofOAuth2(MANAGE_TOKEN))
        .build().blocking();
    infer = WebClient.builder(server.uri("http", server.httpPort)).auth(AuthToken.ofOAuth2(INFER_TOKEN)).build()
        .blocking();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private AggregatedHttpResponse call(String model, String action, String body) {
    return manage.prepare().post("/v2/repository/models/" + model + "/" + action).content(MediaType.JSON, body)
        .execute();
  }

  private AggregatedHttpResponse inferAffine(String model) {
    return infer.prepare().post("/v2/models/" + model + "/infer").content(MediaType.JSON,
        "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}").execute();
  }

  private static String error(AggregatedHttpResponse response) throws Exception {
    return MAPPER.readTree(response.contentUtf8()).path("error").asText();
  }

  private JsonNode index() throws Exception {
    return MAPPER.readTree(infer.prepare().post("/v2/repository/index").content(MediaType.JSON, "{}").execute()
        .contentUtf8());
  }

  private GRPCInferenceServiceBlockingStub grpc(int port, String token) {
    return BearerTokensOverGrpcTest.stub(server.uri("http", port), token);
  }

  @Test
  void unloadThenLoadOverHttp() throws Exception {
    assertThat(call(MODEL, "unload", "").status()).isEqualTo(HttpStatus.OK);

    AggregatedHttpResponse unloaded = inferAffine(MODEL);
    assertThat(unloaded.status()).isEqualTo(HttpStatus.NOT_FOUND);
    assertThat(error(unloaded)).isEqualTo("model 'affine' is unloaded (POST /v2/repository/models/affine/load"
        + " serves it again)");
    assertThat(index().toString()).contains(
        "{\"name\":\"affine\",\"version\":\"\",\"state\":\"UNAVAILABLE\",\"reason\":\"unloaded\"}");
    assertThat(infer.get("/v2/health/ready").status()).as("an unloaded model is not required").isEqualTo(HttpStatus.OK);
    assertThat(error(call(MODEL, "unload", ""))).isEqualTo("unknown model 'affine' (unloaded)");

    assertThat(call(MODEL, "load", "{}").status()).isEqualTo(HttpStatus.OK);

    assertThat(inferAffine(MODEL).status()).isEqualTo(HttpStatus.OK);
    assertThat(index().toString()).contains("{\"name\":\"affine\",\"version\":\"1\",\"state\":\"READY\"");
  }

  @Test
  void unloadThenLoadOverGrpc() {
    GRPCInferenceServiceBlockingStub management = grpc(server.managementPort, MANAGE_TOKEN);
    management.repositoryModelUnload(RepositoryModelUnloadRequest.newBuilder().setModelName(MODEL)
        .putParameters("unload_dependents", io.serval.protocol.v2.ModelRepositoryParameter.newBuilder()
            .setBoolParam(true).build()).build());

    assertThatThrownBy(() -> grpc(server.grpcPort, INFER_TOKEN).modelInfer(BearerTokensOverGrpcTest.inferRequest()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));

    management.repositoryModelLoad(RepositoryModelLoadRequest.newBuilder().setModelName(MODEL).build());

    assertThat(grpc(server.grpcPort, INFER_TOKEN).modelInfer(BearerTokensOverGrpcTest.inferRequest())
        .getModelVersion()).isEqualTo("1");
    assertThat(grpc(server.grpcPort, INFER_TOKEN).repositoryIndex(RepositoryIndexRequest.newBuilder()
        .setReady(true).build()).getModelsList()).anyMatch(model -> model.getName().equals(MODEL));
    assertThat(grpc(server.grpcPort, INFER_TOKEN).serverMetadata(ServerMetadataRequest.getDefaultInstance())
        .getExtensionsList()).contains("model_repository");
  }

  @Test
  void aFolderAddedAfterTheStartServesOnlyOnceLoaded() throws Exception {
    Path late = Files.createDirectories(models.resolve("late").resolve("1"));
    Files.copy(models.resolve(MODEL).resolve("config.yaml"), models.resolve("late").resolve("config.yaml"));
    Files.copy(models.resolve(MODEL).resolve("1").resolve("model.onnx"), late.resolve("model.onnx"),
        StandardCopyOption.REPLACE_EXISTING);

    assertThat(inferAffine("late").status()).isEqualTo(HttpStatus.NOT_FOUND);
    assertThat(call("late", "load", "").status()).isEqualTo(HttpStatus.OK);
    assertThat(inferAffine("late").status()).isEqualTo(HttpStatus.OK);
  }

  @Test
  void aLoadThatFailsSaysWhy() throws Exception {
    Path broken = Files.createDirectories(models.resolve("broken").resolve("1"));
    Files.writeString(broken.resolve("model.onnx"), "not a model");
    // Not required: the server stays ready without it.
    Files.writeString(models.resolve("broken").resolve("config.yaml"), "required: false\n");

    AggregatedHttpResponse response = call("broken", "load", "");

    assertThat(response.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(error(response)).startsWith("model 'broken' failed to load: version 1: onnxruntime cannot load");
    assertThat(infer.get("/v2/health/ready").status()).isEqualTo(HttpStatus.OK);
    assertThatThrownBy(() -> grpc(server.managementPort, MANAGE_TOKEN).repositoryModelLoad(
        RepositoryModelLoadRequest.newBuilder().setModelName("broken").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).startsWith("model 'broken' failed to load");
        });
  }

  @Test
  void refusesNamesThatAreNotOneFolderAndParametersItDoesNotTake() throws Exception {
    String expected = "' is not a model name (expected: letters, digits, '_', '-' and '.', at most 128, not starting"
        + " with '.' or '-' and without '..': the name of one repository folder)";
    // A path that climbs never reaches the service: Armeria refuses it itself.
    for (String name : new String[] {"..", "..%2F..%2Fetc"}) {
      AggregatedHttpResponse response = call(name, "load", "");
      assertThat(response.status()).as(name).isEqualTo(HttpStatus.BAD_REQUEST);
      assertThat(response.contentUtf8()).as(name).contains("Invalid request path");
    }
    for (String name : new String[] {".hidden", "a%2Fb", "-x", "a..b", "x".repeat(129)}) {
      AggregatedHttpResponse response = call(name, "load", "");
      assertThat(response.status()).as(name).isEqualTo(HttpStatus.BAD_REQUEST);
      assertThat(error(response)).as(name).endsWith(expected);
    }
    AggregatedHttpResponse missing = call("nothing_here", "load", "");
    assertThat(missing.status()).isEqualTo(HttpStatus.NOT_FOUND);
    assertThat(error(missing)).startsWith("no folder 'nothing_here' in the model repositories (");

    AggregatedHttpResponse config = call(MODEL, "load", "{\"parameters\":{\"config\":\"{}\"}}");
    assertThat(config.status()).isEqualTo(HttpStatus.NOT_IMPLEMENTED);
    assertThat(error(config)).isEqualTo("repository load parameter 'config' is not supported: Serval loads models"
        + " only from the repository folders (copy the files there instead)");
    AggregatedHttpResponse unknown = call(MODEL, "unload", "{\"parameters\":{\"force\":true}}");
    assertThat(unknown.status()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(error(unknown)).isEqualTo("unknown repository unload parameter 'force' (expected: unload_dependents,"
        + " or none)");
    assertThat(error(call(MODEL, "load", "[1]"))).isEqualTo("the repository load request is not a JSON object");
    assertThat(inferAffine(MODEL).status()).isEqualTo(HttpStatus.OK);
  }

  @Test
  void aReloadThatFailsIsAnErrorAndTheLoadBeforeKeepsServing() throws Exception {
    Path version = Files.createDirectories(models.resolve("again").resolve("1"));
    Files.copy(models.resolve(MODEL).resolve("config.yaml"), models.resolve("again").resolve("config.yaml"));
    Files.copy(models.resolve(MODEL).resolve("1").resolve("model.onnx"), version.resolve("model.onnx"));
    assertThat(call("again", "load", "").status()).isEqualTo(HttpStatus.OK);

    Files.writeString(version.resolve("model.onnx"), "broken on purpose");
    AggregatedHttpResponse reload = call("again", "load", "");

    assertThat(reload.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(error(reload)).startsWith("model 'again' did not load as asked (the versions serving before keep"
        + " serving): version 1 failed to reload and its previous load keeps serving: onnxruntime cannot load");
    assertThat(inferAffine("again").status()).isEqualTo(HttpStatus.OK);
  }
}
