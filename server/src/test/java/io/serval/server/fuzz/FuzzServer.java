package io.serval.server.fuzz;

import io.serval.server.ServalServer;
import io.serval.server.TestRepositories;
import io.serval.server.config.ServerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * A real Serval on free loopback ports serving the three models {@link FuzzGenerator} targets: the built-in
 * {@code ocr_orientation}, the affine test model (max_batch_size 8) and {@code ocr_dynamic}, the built-in ONNX
 * file without a config (inputs [-1,3,-1,-1], batch 4, autocompleted). The body limit is {@link
 * FuzzGenerator#MAX_REQUEST_BYTES}, so bombs and oversized bodies are cheap to send.
 */
final class FuzzServer implements AutoCloseable {
  final ServalServer server;
  final int httpPort;
  final int grpcPort;
  final int metricsPort;
  private final Path repository;

  private FuzzServer(ServalServer server, int httpPort, int grpcPort, int metricsPort, Path repository) {
    this.server = server;
    this.httpPort = httpPort;
    this.grpcPort = grpcPort;
    this.metricsPort = metricsPort;
    this.repository = repository;
  }

  static FuzzServer start() throws Exception {
    Path builtIn = builtInModel();
    Path repository = Files.createTempDirectory("serval-fuzz");
    TestRepositories.copyTree(builtIn, repository.resolve("ocr_orientation"));
    Path affine = Files.createDirectories(repository.resolve("affine").resolve("1"));
    Files.writeString(repository.resolve("affine").resolve("config.yaml"), "max_batch_size: 8\n");
    try (InputStream model = FuzzServer.class.getResourceAsStream("/models/affine/affine.onnx")) {
      Files.copy(Objects.requireNonNull(model, "affine.onnx on the test classpath"), affine.resolve("model.onnx"));
    }
    Path dynamic = Files.createDirectories(repository.resolve("ocr_dynamic").resolve("1"));
    Files.copy(builtIn.resolve("1").resolve("model.onnx"), dynamic.resolve("model.onnx"));

    ServerConfig config = ServerConfig.load(Map.of(), List.of(
        "--http_port=0",
        "--grpc_port=0",
        "--metrics_port=0",
        "--management.port=0",
        "--model_repositories=" + repository,
        "--cpu_threads=2",
        "--shutdown_timeout_seconds=2",
        "--limits.max_request_bytes=" + FuzzGenerator.MAX_REQUEST_BYTES));
    ServalServer server = ServalServer.start(config);
    List<Integer> ports = server.ports();
    return new FuzzServer(server, ports.get(0), ports.get(1), ports.get(2), repository);
  }

  String httpUri() {
    return "http://127.0.0.1:" + httpPort;
  }

  String grpcUri() {
    return "http://127.0.0.1:" + grpcPort;
  }

  /** The project's {@code models/ocr_orientation}, found from the working directory (the module or the root). */
  static Path builtInModel() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("models").resolve("ocr_orientation");
      if (Files.isRegularFile(candidate.resolve("1").resolve("model.onnx"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("models/ocr_orientation not found above " + Path.of("").toAbsolutePath());
  }

  @Override
  public void close() {
    try {
      server.close();
    } finally {
      try (Stream<Path> files = Files.walk(repository)) {
        files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
