package io.serval.server;

import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
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

  static RunningServer start(Path repository, String... options) throws ConfigException {
    int[] ports = freePorts(3);
    List<String> args = new ArrayList<>(List.of(
        "--http_port=" + ports[0],
        "--grpc_port=" + ports[1],
        "--metrics_port=" + ports[2],
        "--model_repositories=" + repository,
        "--cpu_threads=2",
        "--shutdown_timeout_seconds=2"));
    args.addAll(List.of(options));
    ServerConfig config = ServerConfig.load(Map.of(), args);
    return new RunningServer(ServalServer.start(config), ports[0], ports[1], ports[2]);
  }

  String httpUri() {
    return "http://127.0.0.1:" + httpPort;
  }

  String grpcUri() {
    return "http://127.0.0.1:" + grpcPort;
  }

  private static int[] freePorts(int count) {
    List<ServerSocket> sockets = new ArrayList<>();
    int[] ports = new int[count];
    try {
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0);
        sockets.add(socket);
        ports[i] = socket.getLocalPort();
      }
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ports;
  }

  @Override
  public void close() {
    server.close();
  }
}
