package io.serval.server.security;

import static io.serval.server.security.SecuredServer.INFER_TOKEN;
import static io.serval.server.security.SecuredServer.METRICS_TOKEN;
import static io.serval.server.security.SecuredServer.MODEL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.client.grpc.GrpcClientBuilder;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.auth.AuthToken;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import io.serval.protocol.v2.ModelMetadataRequest;
import io.serval.protocol.v2.RepositoryIndexRequest;
import io.serval.protocol.v2.ServerLiveRequest;
import io.serval.protocol.v2.ServerMetadataRequest;
import io.serval.protocol.v2.ServerReadyRequest;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer tokens and scopes on {@code inference.GRPCInferenceService} through the generated grpc-java stub: a
 * refused call ends with a real gRPC status and the server's message, not a bare HTTP status.
 */
class BearerTokensOverGrpcTest {
  @TempDir static Path dir;
  private static SecuredServer server;

  @BeforeAll
  static void start() throws Exception {
    server = SecuredServer.start(dir, SecuredServer.TOKENS_YAML);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static GRPCInferenceServiceBlockingStub stub(String uri, @Nullable String token) {
    GrpcClientBuilder builder = GrpcClients.builder(uri);
    if (token != null) {
      builder.auth(AuthToken.ofOAuth2(token));
    }
    return builder.build(GRPCInferenceServiceBlockingStub.class);
  }

  private static GRPCInferenceServiceBlockingStub stub(@Nullable String token) {
    return stub(server.uri("http", server.grpcPort), token);
  }

  static ModelInferRequest inferRequest() {
    ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
        .setName("x").setDatatype("FP32").addShape(1).addShape(4);
    for (float value : new float[] {1, 2, 3, 4}) {
      input.getContentsBuilder().addFp32Contents(value);
    }
    return ModelInferRequest.newBuilder().setModelName(MODEL).addInputs(input).build();
  }

  @Test
  void infersWithATokenThatHasTheInferScope() {
    ModelInferResponse response = stub(INFER_TOKEN).modelInfer(inferRequest());

    assertThat(response.getOutputs(0).getName()).isEqualTo("y");
    assertThat(response.getRawOutputContentsCount()).isEqualTo(1);
  }

  @Test
  void refusesInferWithoutTokenAsUnauthenticated() {
    assertThatThrownBy(() -> stub(null).modelInfer(inferRequest()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).isEqualTo(
              "this endpoint needs a bearer token with the 'infer' scope (header Authorization: Bearer <token>)");
        });
  }

  @Test
  void refusesInferWithAnUnknownTokenAsUnauthenticated() {
    assertThatThrownBy(() -> stub("not-a-configured-token").modelInfer(inferRequest()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).isEqualTo("the bearer token is not valid");
        });
  }

  @Test
  void refusesInferWithATokenWithoutTheInferScopeAsPermissionDenied() {
    assertThatThrownBy(() -> stub(METRICS_TOKEN).modelInfer(inferRequest()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription())
              .isEqualTo("token 'prometheus' does not have the 'infer' scope that this endpoint needs");
        });
  }

  @Test
  void metadataAndRepositoryIndexNeedTheInferScope() {
    assertThatThrownBy(() -> stub(null).serverMetadata(ServerMetadataRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThatThrownBy(() -> stub(null).repositoryIndex(RepositoryIndexRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));

    assertThat(stub(INFER_TOKEN).serverMetadata(ServerMetadataRequest.getDefaultInstance()).getName())
        .isNotEmpty();
    assertThat(stub(INFER_TOKEN).modelMetadata(ModelMetadataRequest.newBuilder().setName(MODEL).build())
        .getName()).isEqualTo(MODEL);
    assertThat(stub(INFER_TOKEN).repositoryIndex(RepositoryIndexRequest.getDefaultInstance()).getModelsList())
        .anySatisfy(model -> assertThat(model.getName()).isEqualTo(MODEL));
  }

  @Test
  void healthChecksStayOpenForProbes() {
    HealthGrpc.HealthBlockingStub health = GrpcClients.newClient(
        server.uri("http", server.grpcPort), HealthGrpc.HealthBlockingStub.class);

    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(stub(null).serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
    assertThat(stub(null).serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
  }
}
