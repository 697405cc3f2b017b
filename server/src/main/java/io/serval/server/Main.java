package io.serval.server;

import ch.qos.logback.classic.Level;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code serval} command: {@code java -jar serval-server.jar [--config FILE] [--field=value ...]}. With no
 * arguments it serves the models in {@code ./models} on ports 8000 (HTTP), 8001 (gRPC) and 8002 (metrics).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    ServerConfig config;
    try {
      config = ServerConfig.load(System.getenv(), Arrays.asList(args));
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
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "serval-shutdown"));
    server.awaitStop();
  }
}
