package io.serval.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.testing.junit5.server.SelfSignedCertificateExtension;
import com.linecorp.armeria.testing.junit5.server.SignedCertificateExtension;
import io.serval.server.PythonClients;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Triton's own clients against a TLS server with bearer tokens, and against one that requires client
 * certificates: {@code src/test/python/test_security.py} drives {@code tritonclient.http} (HTTPS, {@code
 * headers={"Authorization": "Bearer ..."}}) and {@code tritonclient.grpc} (TLS, metadata). The virtual
 * environment is the conformance suite's ({@code setup_env.sh}, {@code .venv} at the project root).
 */
class TritonClientSecurityTest {

  @RegisterExtension @Order(1)
  static final SelfSignedCertificateExtension SERVER = new SelfSignedCertificateExtension();
  @RegisterExtension @Order(2) static final SelfSignedCertificateExtension CLIENT_CA =
      new SelfSignedCertificateExtension("Serval test client CA");
  @RegisterExtension @Order(3) static final SignedCertificateExtension CLIENT =
      new SignedCertificateExtension("client", CLIENT_CA);

  @TempDir static Path dir;
  private static SecuredServer tls;
  private static SecuredServer mutualTls;

  @BeforeAll
  static void start() throws Exception {
    PythonClients.setUp();
    String serverTls = "tls:\n  cert: " + SERVER.certificateFile() + "\n  key: " + SERVER.privateKeyFile() + "\n";
    // Explicit model control mode: test_security.py unloads and loads the model with Triton's clients.
    tls = SecuredServer.start(dir.resolve("tls"), serverTls + SecuredServer.TOKENS_YAML,
        "--model_control_mode=explicit");
    mutualTls = SecuredServer.start(dir.resolve("mtls"),
        serverTls + "  client_ca: " + CLIENT_CA.certificateFile() + "\n" + SecuredServer.TOKENS_YAML);
  }

  @AfterAll
  static void stop() {
    for (SecuredServer server : new SecuredServer[] {tls, mutualTls}) {
      if (server != null) {
        server.close();
      }
    }
  }

  @Test
  void tritonClientsSpeakTlsAndBearerTokens() throws Exception {
    String output = PythonClients.run(
        List.of(PythonClients.python(), "-m", "pytest",
            PythonClients.TESTS.resolve("test_security.py").toString(), "-v", "-p", "no:cacheprovider"),
        Map.ofEntries(
            Map.entry("SERVAL_SECURITY_HTTP_URL", "localhost:" + tls.httpPort),
            Map.entry("SERVAL_SECURITY_GRPC_URL", "localhost:" + tls.grpcPort),
            Map.entry("SERVAL_SECURITY_METRICS_URL", "localhost:" + tls.metricsPort),
            Map.entry("SERVAL_SECURITY_MANAGEMENT_URL", "localhost:" + tls.managementPort),
            Map.entry("SERVAL_SECURITY_CA", SERVER.certificateFile().toString()),
            Map.entry("SERVAL_SECURITY_INFER_TOKEN", SecuredServer.INFER_TOKEN),
            Map.entry("SERVAL_SECURITY_METRICS_TOKEN", SecuredServer.METRICS_TOKEN),
            Map.entry("SERVAL_SECURITY_MANAGE_TOKEN", SecuredServer.MANAGE_TOKEN),
            Map.entry("SERVAL_SECURITY_MTLS_HTTP_URL", "localhost:" + mutualTls.httpPort),
            Map.entry("SERVAL_SECURITY_MTLS_GRPC_URL", "localhost:" + mutualTls.grpcPort),
            Map.entry("SERVAL_SECURITY_CLIENT_CERT", CLIENT.certificateFile().toString()),
            Map.entry("SERVAL_SECURITY_CLIENT_KEY", CLIENT.privateKeyFile().toString())),
        600);

    assertThat(output).contains(" passed").doesNotContain(" failed", " error", "skipped");
  }

}
