package io.serval.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.testing.junit5.server.SelfSignedCertificateExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A real Serval with TLS (a self-signed certificate) and bearer tokens, called over HTTPS and gRPC over TLS. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsAndTokensTest {
  @RegisterExtension
  static final SelfSignedCertificateExtension CERTIFICATE = new SelfSignedCertificateExtension();

  private RealServer server;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Path repo = RealServer.testModel(Files.createDirectories(dir.resolve("models")), "affine",
        "max_batch_size: 8\n");
    Path config = RealServer.securedConfig(dir, "tls:\n  cert: " + CERTIFICATE.certificateFile()
        + "\n  key: " + CERTIFICATE.privateKeyFile() + "\n");
    server = RealServer.start(repo.toString(), "--config=" + config);
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private ServalClient client(Transport transport, String token) {
    return ServalClient.builder()
        .transport(transport)
        .endpoint(server.endpoint(transport))
        .trustedCertificates(CERTIFICATE.certificateFile().toPath())
        .bearerToken(token)
        .build();
  }

  private static InferRequest request() {
    return InferRequest.builder("affine").input(InferTensor.ofFloats("x", new long[] {1, 4}, 1, 2, 3, 4)).build();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void infersOverTlsWithTheRightToken(Transport transport) {
    try (ServalClient client = client(transport, RealServer.TOKEN)) {
      assertThat(client.isReady()).isTrue();
      assertThat(client.infer(request()).output("y").toFloatArray()).containsExactly(3, 5, 7, 9);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aWrongTokenIsATypedAuthenticationError(Transport transport) {
    try (ServalClient client = client(transport, "not-the-token")) {
      assertThatThrownBy(() -> client.infer(request()))
          .isInstanceOfSatisfying(AuthenticationException.class, error -> {
            if (transport == Transport.HTTP) {
              assertThat(error.httpStatus()).isEqualTo(401);
            } else {
              assertThat(error.grpcStatus()).isEqualTo("UNAUTHENTICATED");
            }
          });
      assertThatThrownBy(() -> client.modelMetadata("affine")).isInstanceOf(AuthenticationException.class);
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aClientThatDoesNotTrustTheCertificateCannotConnect(Transport transport) {
    try (ServalClient client = ServalClient.builder().transport(transport).endpoint(server.endpoint(transport))
        .tls().bearerToken(RealServer.TOKEN).maxAttempts(1).build()) {
      assertThatThrownBy(() -> client.infer(request())).isInstanceOf(ServerUnavailableException.class);
    }
  }
}
