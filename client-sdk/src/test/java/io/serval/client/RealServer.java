package io.serval.client;

import io.serval.server.ServalServer;
import io.serval.server.config.ServerConfig;
import io.serval.server.testengine.TestEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * A real Serval started in-process on ports the system chooses, for the tests to call over the wire. Its test
 * models run on the server's test engine ({@code y = 2x + 1} on FP32 {@code [batch, 4]}).
 */
final class RealServer implements AutoCloseable {
  /** The token every secured test server knows, with every scope. */
  static final String TOKEN = "client-sdk-test-token";

  final ServalServer server;

  private RealServer(ServalServer server) {
    this.server = server;
  }

  /** Starts a server on {@code repositories} (comma-separated) with extra command-line {@code options}. */
  static RealServer start(String repositories, String... options) throws Exception {
    List<String> args = new ArrayList<>(List.of("--http_port=0", "--grpc_port=0", "--metrics_port=0",
        "--management.port=0", "--model_repositories=" + repositories, "--cpu_threads=2",
        "--shutdown_timeout_seconds=2", "--warmup.requests=0"));
    args.addAll(List.of(options));
    return new RealServer(ServalServer.start(ServerConfig.load(Map.of(), args)));
  }

  /** A repository with the test-engine model {@code name} (config {@code configYaml}) in {@code dir}. */
  static Path testModel(Path repo, String name, String configYaml) {
    TestEngine.model(repo, name, configYaml);
    return repo;
  }

  /** A configuration file that knows {@link #TOKEN} with every scope, plus {@code extraYaml}. */
  static Path securedConfig(Path dir, String extraYaml) throws IOException {
    String hash;
    try {
      hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(TOKEN.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return Files.writeString(dir.resolve("serval-" + System.nanoTime() + ".yaml"), "auth:\n  tokens:\n"
        + "    - {name: tests, sha256: " + hash + ", scopes: [infer, manage, metrics]}\n" + extraYaml);
  }

  String http() {
    return "127.0.0.1:" + server.ports().get(0);
  }

  String grpc() {
    return "127.0.0.1:" + server.ports().get(1);
  }

  String management() {
    return "127.0.0.1:" + server.ports().get(3);
  }

  /** The endpoint of {@code transport}. */
  String endpoint(Transport transport) {
    return transport == Transport.GRPC ? grpc() : http();
  }

  @Override
  public void close() {
    server.close();
  }
}
