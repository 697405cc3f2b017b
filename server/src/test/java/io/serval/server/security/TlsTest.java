package io.serval.server.security;

import static io.serval.server.security.SecuredServer.INFER_TOKEN;
import static io.serval.server.security.SecuredServer.MANAGE_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.ClientFactoryBuilder;
import com.linecorp.armeria.client.ClientRequestContext;
import com.linecorp.armeria.client.ClientRequestContextCaptor;
import com.linecorp.armeria.client.Clients;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.auth.AuthToken;
import com.linecorp.armeria.common.logging.RequestLog;
import com.linecorp.armeria.testing.junit5.server.SelfSignedCertificateExtension;
import com.linecorp.armeria.testing.junit5.server.SignedCertificateExtension;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on every port, with self-signed certificates the test makes: HTTPS over HTTP/1.1 and HTTP/2, gRPC over
 * TLS, plaintext refused, and client certificates required when {@code tls.client_ca} is set.
 */
class TlsTest {
  /** The server's certificate (CN and SANs localhost, 127.0.0.1, ::1); clients trust it directly. */
  @RegisterExtension @Order(1)
  static final SelfSignedCertificateExtension SERVER = new SelfSignedCertificateExtension();
  /** The CA that client certificates must chain to, and a client certificate it signed. */
  @RegisterExtension @Order(2) static final SelfSignedCertificateExtension CLIENT_CA =
      new SelfSignedCertificateExtension("Serval test client CA");
  @RegisterExtension @Order(3) static final SignedCertificateExtension CLIENT =
      new SignedCertificateExtension("client", CLIENT_CA);
  /** A client certificate from a CA the server does not know. */
  @RegisterExtension @Order(4) static final SelfSignedCertificateExtension STRANGER_CA =
      new SelfSignedCertificateExtension("Another CA");
  @RegisterExtension @Order(5) static final SignedCertificateExtension STRANGER =
      new SignedCertificateExtension("stranger", STRANGER_CA);

  static String tlsYaml(boolean clientCertificates) {
    return "tls:\n  cert: " + SERVER.certificateFile() + "\n  key: " + SERVER.privateKeyFile() + "\n"
        + (clientCertificates ? "  client_ca: " + CLIENT_CA.certificateFile() + "\n" : "");
  }

  /** A client factory that trusts the server's certificate and presents {@code clientCertificate}, if any. */
  static ClientFactory factory(@Nullable SignedCertificateExtension clientCertificate) {
    ClientFactoryBuilder builder = ClientFactory.builder()
        .tlsCustomizer(ssl -> ssl.trustManager(SERVER.certificate()));
    if (clientCertificate != null) {
      builder.tls(clientCertificate.tlsKeyPair());
    }
    return builder.build();
  }

  private static AggregatedHttpResponse get(ClientFactory factory, String uri, String path, String token) {
    return WebClient.builder(uri).factory(factory).auth(AuthToken.ofOAuth2(token)).build().blocking().get(path);
  }

  private static void assertFails(Consumer<String> call, String uri) {
    assertThatThrownBy(() -> call.accept(uri)).as(uri).isInstanceOf(Exception.class);
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class ServerCertificateOnly {
    SecuredServer server;
    ClientFactory factory;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
      server = SecuredServer.start(dir, tlsYaml(false) + SecuredServer.TOKENS_YAML);
      factory = factory(null);
    }

    @AfterAll
    void stop() {
      factory.close();
      server.close();
    }

    @Test
    void servesHttpsOverHttp2AndHttp1OnEveryPort() {
      for (int port : new int[] {server.httpPort, server.grpcPort, server.metricsPort}) {
        for (SessionProtocol protocol : new SessionProtocol[] {SessionProtocol.H2, SessionProtocol.H1}) {
          String uri = protocol.uriText() + "://localhost:" + port;
          try (ClientRequestContextCaptor captor = Clients.newContextCaptor()) {
            AggregatedHttpResponse response = get(factory, uri, "/v2", INFER_TOKEN);
            ClientRequestContext ctx = captor.get();

            assertThat(response.status()).as(uri).isEqualTo(HttpStatus.OK);
            RequestLog log = ctx.log().whenComplete().join();
            assertThat(log.sessionProtocol()).as(uri).isEqualTo(protocol);
            assertThat(log.sessionProtocol().isTls()).isTrue();
          }
        }
      }
      AggregatedHttpResponse load = get(factory, "https://localhost:" + server.managementPort,
          "/v2/repository/models/affine/load", MANAGE_TOKEN);
      assertThat(load.status()).isNotEqualTo(HttpStatus.NOT_FOUND);
    }

    @Test
    void refusesPlaintextOnEveryPort() {
      for (int port : new int[] {server.httpPort, server.grpcPort, server.metricsPort, server.managementPort}) {
        assertFails(uri -> WebClient.of(uri).blocking().get("/v2/health/live"), "http://localhost:" + port);
        assertFails(uri -> WebClient.of(uri).blocking().get("/v2/health/live"), "h2c://localhost:" + port);
      }
    }

    @Test
    void refusesClientsThatDoNotTrustTheCertificate() {
      assertFails(uri -> WebClient.of(uri).blocking().get("/v2/health/live"), "https://localhost:" + server.httpPort);
    }

    @Test
    void servesGrpcOverTls() {
      String uri = "https://localhost:" + server.grpcPort;
      HealthGrpc.HealthBlockingStub health =
          GrpcClients.builder(uri).factory(factory).build(HealthGrpc.HealthBlockingStub.class);
      GRPCInferenceServiceBlockingStub inference = GrpcClients.builder(uri).factory(factory)
          .auth(AuthToken.ofOAuth2(INFER_TOKEN)).build(GRPCInferenceServiceBlockingStub.class);

      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      assertThat(inference.modelInfer(BearerTokensOverGrpcTest.inferRequest()).getOutputs(0).getShapeList())
          .containsExactly(1L, 4L);
    }
  }

  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class ClientCertificatesRequired {
    SecuredServer server;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
      server = SecuredServer.start(dir, tlsYaml(true) + SecuredServer.TOKENS_YAML);
    }

    @AfterAll
    void stop() {
      server.close();
    }

    @Test
    void servesClientsWithACertificateFromTheClientCa() {
      try (ClientFactory factory = factory(CLIENT)) {
        for (int port : new int[] {server.httpPort, server.grpcPort, server.metricsPort}) {
          assertThat(get(factory, "https://localhost:" + port, "/v2", INFER_TOKEN).status())
              .isEqualTo(HttpStatus.OK);
        }
        GRPCInferenceServiceBlockingStub inference = GrpcClients.builder("https://localhost:" + server.grpcPort)
            .factory(factory).auth(AuthToken.ofOAuth2(INFER_TOKEN)).build(GRPCInferenceServiceBlockingStub.class);
        assertThat(inference.modelInfer(BearerTokensOverGrpcTest.inferRequest()).getOutputsCount()).isEqualTo(1);
      }
    }

    @Test
    void refusesClientsWithoutACertificate() {
      try (ClientFactory factory = factory(null)) {
        for (int port : new int[] {server.httpPort, server.grpcPort, server.metricsPort, server.managementPort}) {
          assertFails(uri -> get(factory, uri, "/v2/health/live", INFER_TOKEN), "https://localhost:" + port);
        }
      }
    }

    @Test
    void refusesClientsWithACertificateFromAnotherCa() {
      try (ClientFactory factory = factory(STRANGER)) {
        assertFails(uri -> get(factory, uri, "/v2/health/live", INFER_TOKEN), "https://localhost:" + server.httpPort);
        GRPCInferenceServiceBlockingStub inference = GrpcClients.builder("https://localhost:" + server.grpcPort)
            .factory(factory).auth(AuthToken.ofOAuth2(INFER_TOKEN)).build(GRPCInferenceServiceBlockingStub.class);
        assertThatThrownBy(() -> inference.modelInfer(BearerTokensOverGrpcTest.inferRequest()))
            .isInstanceOf(io.grpc.StatusRuntimeException.class);
      }
    }
  }
}
