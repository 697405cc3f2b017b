package io.serval.server;

import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A real Serval on free loopback ports, for tests that talk to it over the wire. */
final class RunningServer implements AutoCloseable {
  final ServalServer server;
  final int httpPort;
  final int grpcPort;
  final int metricsPort;

  private RunningServer(ServalServer server, int httpPort, int grpcPort, int metricsPort) {
    this.server = server;
    this.httpPort = httpPort;
    this.grpcPort = grpcPort;
    this.metricsPort = metricsPort;
  }

  /** Starts a server on ports the system chooses (port 0), read back once it is bound. */
  static RunningServer start(Path repository, String... options) throws ConfigException {
    List<String> args = new ArrayList<>(List.of(
        "--http_port=0",
        "--grpc_port=0",
        "--metrics_port=0",
        "--management.port=0",
        "--model_repositories=" + repository,
        "--cpu_threads=2",
        "--shutdown_timeout_seconds=2",
        // Tests here count requests and executions; the warm-up has its own test (WarmupTest).
        "--warmup.requests=0"));
    args.addAll(List.of(options));
    ServalServer server = ServalServer.start(ServerConfig.load(Map.of(), args));
    List<Integer> ports = server.ports();
    return new RunningServer(server, ports.get(0), ports.get(1), ports.get(2));
  }

  String httpUri() {
    return "http://127.0.0.1:" + httpPort;
  }

  String grpcUri() {
    return "http://127.0.0.1:" + grpcPort;
  }

  @Override
  public void close() {
    server.close();
  }
}
