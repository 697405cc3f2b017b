package io.serval.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.testing.junit5.server.SelfSignedCertificateExtension;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The {@code tls:}, {@code auth:} and {@code management:} settings: defaults, and every mistake reported. */
class SecurityConfigTest {
  @RegisterExtension @Order(1)
  static final SelfSignedCertificateExtension SERVER = new SelfSignedCertificateExtension();
  @RegisterExtension @Order(2)
  static final SelfSignedCertificateExtension OTHER = new SelfSignedCertificateExtension();

  @TempDir Path dir;

  private ServerConfig load(String yaml, String... options) throws ConfigException {
    Path file = SecuredServer.write(dir.resolve("serval.yaml"), yaml);
    List<String> args = new ArrayList<>(List.of("--config", file.toString()));
    args.addAll(List.of(options));
    return ServerConfig.load(Map.of(), args);
  }

  private List<String> errors(String yaml) {
    Path file = dir.resolve("serval.yaml");
    try {
      load(yaml);
    } catch (ConfigException e) {
      return e.errors().stream().map(error -> error.replace(file.toString(), "FILE")).toList();
    }
    throw new AssertionError("no ConfigException for:\n" + yaml);
  }

  private List<String> tlsErrors(Path cert, Path key) throws ConfigException {
    ServerConfig config = load("tls:\n  cert: " + cert + "\n  key: " + key + "\n");
    try {
      ServalSecurity.of(config);
    } catch (ConfigException e) {
      return e.errors();
    }
    throw new AssertionError("no ConfigException for " + cert + ", " + key);
  }

  @Test
  void servesPlaintextWithoutTokensAndManagementOnLoopbackByDefault() throws ConfigException {
    ServerConfig config = ServerConfig.load(Map.of(), List.of());

    assertThat(config.tls()).isNull();
    assertThat(config.tokens()).isEmpty();
    assertThat(config.managementPort()).isEqualTo(8003);
    assertThat(config.managementAddress()).isEqualTo(InetAddress.getLoopbackAddress());
  }

  @Test
  void theDocumentedConfigurationServesPlaintextWithoutTokens() throws ConfigException {
    Path documented = Path.of("..", "conf", "serval.yaml");
    ServerConfig config = ServerConfig.load(Map.of(), List.of("--config", documented.toString()));

    assertThat(config.tls()).isNull();
    assertThat(config.tokens()).isEmpty();
    assertThat(config.managementPort()).isEqualTo(8003);
    assertThat(config.managementAddress().getHostAddress()).isEqualTo("127.0.0.1");
  }

  @Test
  void readsTlsTokensAndManagementFromTheFile() throws Exception {
    ServerConfig config = load("tls:\n  cert: " + SERVER.certificateFile() + "\n  key: " + SERVER.privateKeyFile()
        + "\n  client_ca: " + OTHER.certificateFile() + "\n" + SecuredServer.TOKENS_YAML
        + "management:\n  port: 9003\n  address: 0.0.0.0\n");

    assertThat(config.tls()).isEqualTo(new ServerConfig.Tls(SERVER.certificateFile().toPath(),
        SERVER.privateKeyFile().toPath(), OTHER.certificateFile().toPath()));
    assertThat(config.tokens()).extracting(ServerConfig.Token::name).containsExactly("ci", "prometheus", "ops");
    assertThat(config.tokens().get(0).sha256()).isEqualTo(TokenHash.sha256Hex(SecuredServer.INFER_TOKEN));
    assertThat(config.tokens().get(0).scopes()).isEqualTo(Set.of("infer"));
    assertThat(config.managementPort()).isEqualTo(9003);
    assertThat(config.managementAddress().isAnyLocalAddress()).isTrue();
    assertThat(ServalSecurity.of(config)).isNotNull();
  }

  @Test
  void takesTlsFilesAndTheManagementPortFromTheEnvironment() throws ConfigException {
    ServerConfig config = ServerConfig.load(Map.of(
        "SERVAL_TLS_CERT", SERVER.certificateFile().toString(),
        "SERVAL_TLS_KEY", SERVER.privateKeyFile().toString(),
        "SERVAL_MANAGEMENT_PORT", "9103"), List.of("--management.address=localhost"));

    assertThat(config.tls()).isNotNull();
    assertThat(config.tls().cert()).isEqualTo(SERVER.certificateFile().toPath());
    assertThat(config.managementPort()).isEqualTo(9103);
    assertThat(config.managementAddress().isLoopbackAddress()).isTrue();
  }

  @Test
  void reportsMissingTlsFilesNamingTheFieldAndTheFile() {
    assertThat(errors("tls:\n  cert: missing.crt\n  key: " + dir + "\n  client_ca: nope.pem\n")).containsExactly(
        "FILE: tls.cert: cannot read 'missing.crt': no such file",
        "FILE: tls.key: cannot read '" + dir + "': not a file",
        "FILE: tls.client_ca: cannot read 'nope.pem': no such file");
    assertThat(errors("tls:\n  cert: " + SERVER.certificateFile() + "\n")).containsExactly(
        "FILE: tls.key: missing (expected: the path of a PEM file)");
    assertThat(errors("tls:\n  cert: a\n  keyfile: b\n  key: c\n")).contains(
        "FILE: tls.keyfile: unknown field (expected one of: cert, client_ca, key)");
  }

  @Test
  void reportsTlsFilesThatAreNotWhatTheirFieldNeeds() throws Exception {
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate\n");
    Path pkcs1 = Files.writeString(dir.resolve("rsa.key"),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n");
    Path cert = SERVER.certificateFile().toPath();
    Path key = SERVER.privateKeyFile().toPath();

    assertThat(tlsErrors(garbage, key)).singleElement().asString().startsWith("tls.cert: '" + garbage + "'");
    assertThat(tlsErrors(cert, garbage)).containsExactly("tls.key: '" + garbage + "' holds no private key"
        + " (expected: an unencrypted PEM PKCS#8 key, -----BEGIN PRIVATE KEY-----;"
        + " convert with openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8.pem)");
    assertThat(tlsErrors(cert, pkcs1)).singleElement().asString()
        .startsWith("tls.key: '" + pkcs1 + "' holds a key in a legacy format (PKCS#1 or SEC1)");
    assertThat(tlsErrors(cert, OTHER.privateKeyFile().toPath())).containsExactly("tls.key: '"
        + OTHER.privateKeyFile() + "' is not the private key of the first certificate in tls.cert (CN=localhost)");
  }

  @Test
  void reportsEveryMistakeInTokens() {
    String hash = TokenHash.sha256Hex("x");
    assertThat(errors("auth:\n  tokens:\n"
        + "    - name: ci\n      sha256: " + hash + "\n      scopes: [infer, admin]\n"
        + "    - name: ci\n      sha256: " + hash.toUpperCase() + "\n      scopes: [metrics]\n"
        + "    - name: raw\n      sha256: my-secret-token\n      scopes: []\n"
        + "    - sha256: " + TokenHash.sha256Hex("y") + "\n      scopes: [manage]\n"
        + "    - just a string\n")).containsExactly(
            "FILE: auth.tokens[0].scopes[1]: is 'admin' (expected one of: infer, manage, metrics)",
            "FILE: auth.tokens[1].name: 'ci' is also the name of auth.tokens[0] (expected: a unique name)",
            "FILE: auth.tokens[1].sha256: is also the hash of auth.tokens[0] (expected: one entry per token)",
            "FILE: auth.tokens[2].sha256: is not 64 hex digits (expected: the hex SHA-256 of the token, not the"
                + " token itself)",
            "FILE: auth.tokens[2].scopes: missing or empty (expected: a list of infer, manage, metrics)",
            "FILE: auth.tokens[3].name: missing (expected: a name for logs, such as the client that holds the token)",
            "FILE: auth.tokens[4]: is 'just a string' (expected: a mapping with name, sha256, scopes)");
  }

  @Test
  void reportsManagementPortsThatCannotWork() {
    assertThat(errors("http_port: 9000\nmanagement:\n  port: 9000\n")).containsExactly(
        "FILE: management.port: 9000 is also http_port, grpc_port or metrics_port (expected: a port of its own)");
    assertThat(errors("http_port: 0\nmanagement:\n  port: 0\n  address: 0.0.0.0\n")).containsExactly(
        "FILE: management.port: 0 with a wildcard address needs http_port, grpc_port and metrics_port set"
            + " (expected: a port number, or a specific management.address such as 127.0.0.1)");
    assertThat(errors("management:\n  address: no.such.host.invalid\n")).containsExactly(
        "FILE: management.address: 'no.such.host.invalid' is not an IP address or a known host name");
  }
}
