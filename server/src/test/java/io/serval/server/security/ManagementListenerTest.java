package io.serval.server.security;

import static io.serval.server.security.SecuredServer.INFER_TOKEN;
import static io.serval.server.security.SecuredServer.MANAGE_TOKEN;
import static io.serval.server.security.SecuredServer.MODEL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.auth.AuthToken;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.serval.protocol.v2.RepositoryModelLoadRequest;
import io.serval.protocol.v2.RepositoryModelUnloadRequest;
import io.serval.protocol.v2.ServerMetadataRequest;
import io.serval.server.config.ServerConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Management calls (repository load and unload) are served on the management listener only, and there only when
 * some token has the {@code manage} scope; the management listener serves nothing else but health checks.
 */
class ManagementListenerTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String LOAD = "/v2/repository/models/" + MODEL + "/load";
  private static final String UNLOAD = "/v2/repository/models/" + MODEL + "/unload";

  private static BlockingWebClient client(int port, @Nullable String token) {
    var builder = WebClient.builder("http://127.0.0.1:" + port);
    if (token != null) {
      builder.auth(AuthToken.ofOAuth2(token));
    }
    return builder.build().blocking();
  }

  private static String error(AggregatedHttpResponse response) throws Exception {
    return MAPPER.readTree(response.contentUtf8()).path("error").asText();
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithAManageToken {
    SecuredServer server;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
      server = SecuredServer.start(dir, SecuredServer.TOKENS_YAML);
    }

    @AfterAll
    void stop() {
      server.close();
    }

    @Test
    void servesManagementCallsWithTheManageScope() {
      for (String path : List.of(LOAD, UNLOAD)) {
        AggregatedHttpResponse response = client(server.managementPort, MANAGE_TOKEN).post(path, "{}");
        // The call reaches the repository endpoint, which answers itself: the server watches its folders (poll
        // mode), so load and unload are refused there (RepositoryApiTest calls them in explicit mode).
        assertThat(response.status()).as(path).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(response.contentUtf8()).contains("not allowed in model control mode 'poll'")
            .doesNotContain("management port", "scope");
      }
    }

    @Test
    void refusesManagementCallsWithoutTheManageScope() throws Exception {
      AggregatedHttpResponse anonymous = client(server.managementPort, null).post(LOAD, "{}");
      AggregatedHttpResponse inferOnly = client(server.managementPort, INFER_TOKEN).post(LOAD, "{}");

      assertThat(anonymous.status()).isEqualTo(HttpStatus.UNAUTHORIZED);
      assertThat(error(anonymous)).contains("'manage' scope");
      assertThat(inferOnly.status()).isEqualTo(HttpStatus.FORBIDDEN);
      assertThat(error(inferOnly)).isEqualTo("token 'ci' does not have the 'manage' scope that this endpoint needs");
    }

    @Test
    void answersManagementCallsOnTheOtherPortsWithNotFound() throws Exception {
      for (int port : new int[] {server.httpPort, server.grpcPort, server.metricsPort}) {
        AggregatedHttpResponse response = client(port, MANAGE_TOKEN).post(LOAD, "{}");

        assertThat(response.status()).isEqualTo(HttpStatus.NOT_FOUND);
        assertThat(error(response)).startsWith("management calls (repository load and unload, version labels,"
            + " routes, the console's data) are served on the management port only");
      }
    }

    @Test
    void answersOtherCallsOnTheManagementPortWithNotFound() throws Exception {
      AggregatedHttpResponse metadata = client(server.managementPort, INFER_TOKEN).get("/v2");
      AggregatedHttpResponse metrics = client(server.managementPort, SecuredServer.METRICS_TOKEN).get("/metrics");

      assertThat(metadata.status()).isEqualTo(HttpStatus.NOT_FOUND);
      assertThat(error(metadata)).startsWith("the management port serves only management calls");
      assertThat(metrics.status()).isEqualTo(HttpStatus.NOT_FOUND);
      assertThat(client(server.managementPort, null).get("/v2/health/ready").status()).isEqualTo(HttpStatus.OK);
    }

    @Test
    void answersGrpcManagementCallsOnTheOtherPortsWithUnimplemented() {
      String uri = "http://127.0.0.1:" + server.grpcPort;
      RepositoryModelLoadRequest load = RepositoryModelLoadRequest.newBuilder().setModelName(MODEL).build();

      assertThatThrownBy(() -> BearerTokensOverGrpcTest.stub(uri, MANAGE_TOKEN).repositoryModelLoad(load))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
            assertThat(e.getStatus().getDescription()).contains("served on the management port only");
          });
    }

    @Test
    void servesGrpcManagementCallsOnTheManagementPortWithTheManageScope() {
      String uri = "http://127.0.0.1:" + server.managementPort;
      RepositoryModelUnloadRequest unload = RepositoryModelUnloadRequest.newBuilder().setModelName(MODEL).build();

      assertThatThrownBy(() -> BearerTokensOverGrpcTest.stub(uri, INFER_TOKEN).repositoryModelUnload(unload))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
      assertThatThrownBy(() -> BearerTokensOverGrpcTest.stub(uri, INFER_TOKEN)
              .serverMetadata(ServerMetadataRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
            assertThat(e.getStatus().getDescription()).startsWith("the management port serves only");
          });
      // The call reaches the service, which refuses unloads in poll mode.
      assertThatThrownBy(() -> BearerTokensOverGrpcTest.stub(uri, MANAGE_TOKEN).repositoryModelUnload(unload))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("not allowed in model control mode 'poll'");
          });
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithoutAManageToken {
    SecuredServer server;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
      server = SecuredServer.start(dir, "auth:\n  tokens:\n" + SecuredServer.token("ci", INFER_TOKEN, "infer"));
    }

    @AfterAll
    void stop() {
      server.close();
    }

    @Test
    void refusesManagementCallsSayingHowToEnableThem() throws Exception {
      AggregatedHttpResponse response = client(server.managementPort, INFER_TOKEN).post(LOAD, "{}");

      assertThat(response.status()).isEqualTo(HttpStatus.FORBIDDEN);
      assertThat(error(response)).isEqualTo("management calls are disabled: to enable them, add a token with the"
          + " 'manage' scope to auth.tokens in the server configuration and restart the server");
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class WithoutAnyToken {
    SecuredServer server;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
      server = SecuredServer.start(dir, "");
    }

    @AfterAll
    void stop() {
      server.close();
    }

    @Test
    void leavesEveryOtherEndpointOpen() {
      assertThat(client(server.httpPort, null).get("/v2").status()).isEqualTo(HttpStatus.OK);
      assertThat(client(server.metricsPort, null).get("/metrics").status()).isEqualTo(HttpStatus.OK);
      assertThat(client(server.httpPort, null).post("/v2/repository/index", "").status()).isEqualTo(HttpStatus.OK);
    }

    @Test
    void stillRefusesManagementCalls() {
      assertThat(client(server.managementPort, null).post(LOAD, "{}").status()).isEqualTo(HttpStatus.FORBIDDEN);
      assertThat(client(server.httpPort, null).post(LOAD, "{}").status()).isEqualTo(HttpStatus.NOT_FOUND);
    }
  }

  @Test
  void findsTheManagementListenerOnAFreePort(@TempDir Path dir) throws Exception {
    Path file = SecuredServer.write(dir.resolve("serval.yaml"), SecuredServer.TOKENS_YAML);
    ServerConfig config = ServerConfig.load(Map.of(), List.of("--http_port=0", "--grpc_port=0", "--metrics_port=0",
        "--management.port=0", "--config", file.toString()));
    ServerBuilder sb = Server.builder();
    ServalSecurity.of(config).configure(sb);
    sb.service("/v2/repository/models/{model}/load", (ctx, req) -> HttpResponse.of("loaded"));
    sb.service("/v2", (ctx, req) -> HttpResponse.of("metadata"));
    Server server = sb.build();
    server.start().join();
    try {
      List<InetSocketAddress> bound = List.copyOf(server.activePorts().keySet());
      assertThat(bound).hasSize(4);
      InetSocketAddress management = bound.stream()
          .filter(address -> address.getAddress().isLoopbackAddress()).findFirst().orElseThrow();
      for (InetSocketAddress address : bound) {
        int port = address.getPort();
        AggregatedHttpResponse load = client(port, MANAGE_TOKEN).post(LOAD, "{}");
        AggregatedHttpResponse metadata = client(port, INFER_TOKEN).get("/v2");
        if (address.equals(management)) {
          assertThat(load.contentUtf8()).isEqualTo("loaded");
          assertThat(metadata.status()).isEqualTo(HttpStatus.NOT_FOUND);
        } else {
          assertThat(load.status()).isEqualTo(HttpStatus.NOT_FOUND);
          assertThat(metadata.contentUtf8()).isEqualTo("metadata");
        }
      }
    } finally {
      server.stop().join();
    }
  }
}
