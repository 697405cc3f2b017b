package io.serval.server.security;

import io.serval.server.ServalServer;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A real Serval on free loopback ports, with the security settings of a YAML snippet, serving the tiny affine
 * model ({@value #MODEL}: y = 2x + 1 on FP32 [batch, 4]).
 */
final class SecuredServer implements AutoCloseable {
  static final String MODEL = "affine";
  /** Bearer tokens the tests present, and the configuration entries that know them by hash. */
  static final String INFER_TOKEN = "infer-token-for-tests";
  static final String METRICS_TOKEN = "metrics-token-for-tests";
  static final String MANAGE_TOKEN = "manage-token-for-tests";
  static final String TOKENS_YAML = "auth:\n  tokens:\n"
      + token("ci", INFER_TOKEN, "infer")
      + token("prometheus", METRICS_TOKEN, "metrics")
      + token("ops", MANAGE_TOKEN, "manage");

  final ServalServer server;
  final int httpPort;
  final int grpcPort;
  final int metricsPort;
  final int managementPort;

  private SecuredServer(ServalServer server) {
    this.server = server;
    this.httpPort = server.ports().get(0);
    this.grpcPort = server.ports().get(1);
    this.metricsPort = server.ports().get(2);
    this.managementPort = server.ports().get(3);
  }

  /** An entry of {@code auth.tokens}. */
  static String token(String name, String token, String... scopes) {
    return "    - name: " + name + "\n      sha256: " + TokenHash.sha256Hex(token)
        + "\n      scopes: [" + String.join(", ", scopes) + "]\n";
  }

  /** Starts a server with the affine model in {@code dir}/models and the configuration {@code yaml}. */
  static SecuredServer start(Path dir, String yaml, String... options) throws ConfigException {
    Path repository = affineRepository(dir.resolve("models"));
    Path config = write(dir.resolve("serval-" + System.nanoTime() + ".yaml"), yaml);
    List<String> args = new ArrayList<>(List.of(
        "--config", config.toString(),
        "--http_port=0",
        "--grpc_port=0",
        "--metrics_port=0",
        "--management.port=0",
        "--model_repositories=" + repository,
        "--cpu_threads=1",
        "--shutdown_timeout_seconds=1"));
    args.addAll(List.of(options));
    return new SecuredServer(ServalServer.start(ServerConfig.load(Map.of(), args)));
  }

  static Path affineRepository(Path repository) {
    try {
      Path version = Files.createDirectories(repository.resolve(MODEL).resolve("1"));
      Files.writeString(repository.resolve(MODEL).resolve("config.yaml"), "max_batch_size: 4\n");
      try (InputStream model = SecuredServer.class.getResourceAsStream("/models/affine/affine.onnx")) {
        Files.copy(Objects.requireNonNull(model, "affine.onnx"), version.resolve("model.onnx"),
            StandardCopyOption.REPLACE_EXISTING);
      }
      return repository;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path write(Path file, String text) {
    try {
      return Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String uri(String scheme, int port) {
    return scheme + "://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    server.close();
  }
}
