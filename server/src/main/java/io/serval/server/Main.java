package io.serval.server;

import ch.qos.logback.classic.Level;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import io.serval.server.security.TokenHash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code serval} command: {@code java -jar serval-server.jar [--config FILE] [--field=value ...]}. With no
 * arguments it serves the models in {@code ./models} on ports 8000 (HTTP), 8001 (gRPC) and 8002 (metrics). {@code
 * java -jar serval-server.jar --hash-token [--generate]} prints the SHA-256 of a bearer token read from standard
 * input (or of a new random one) for {@code auth.tokens}. With {@code --exit-when-ready} the server starts, warms
 * up, reports ready and stops: the training run that records the class-data archive at build time.
 */
public final class Main {
  private Main() {}

  /**
   * Chooses Netty's classic pooled allocator for network buffers, unless the user chose one. Netty 4.2's default
   * (the adaptive allocator) let a flood of large requests grow the process by gigabytes of direct memory that only
   * a garbage collection returned (5.6 GB for 5 GB of refused gRPC requests, measured by FloodTest); the pooled
   * allocator reuses its arenas. Must run before any Netty class is loaded.
   */
  static void useBoundedNetworkBuffers() {
    if (System.getProperty("io.netty.allocator.type") == null) {
      System.setProperty("io.netty.allocator.type", "pooled");
    }
  }

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("--hash-token")) {
      try {
        TokenHash.main(Arrays.copyOfRange(args, 1, args.length));
      } catch (java.io.IOException e) {
        System.err.println("serval: cannot read the token: " + e.getMessage());
        System.exit(2);
      }
      return;
    }
    useBoundedNetworkBuffers();
    List<String> options = new ArrayList<>(Arrays.asList(args));
    boolean exitWhenReady = options.remove("--exit-when-ready");
    ServerConfig config;
    try {
      config = ServerConfig.load(System.getenv(), options);
    } catch (ConfigException e) {
      System.err.println("serval: invalid configuration:");
      e.errors().forEach(error -> System.err.println("  " + error));
      System.exit(2);
      return;
    }
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME))
        .setLevel(Level.toLevel(config.logLevel()));
    ServalServer server;
    try {
      server = ServalServer.start(config);
    } catch (ConfigException e) {
      System.err.println("serval: cannot start:");
      e.errors().forEach(error -> System.err.println("  " + error));
      System.exit(2);
      return;
    }
    if (exitWhenReady) {
      boolean ready = server.status().ready();
      server.close();
      System.exit(ready ? 0 : 1);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "serval-shutdown"));
    server.awaitStop();
  }
}
