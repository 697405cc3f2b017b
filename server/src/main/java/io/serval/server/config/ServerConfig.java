package io.serval.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The server's configuration. Values come, each overriding the one before, from the built-in defaults, the YAML
 * file ({@code --config FILE} or {@code SERVAL_CONFIG}), environment variables ({@code SERVAL_HTTP_PORT},
 * {@code SERVAL_LIMITS_MAX_REQUEST_BYTES}, {@code SERVAL_ENGINES_ONNXRUNTIME_SPIN}: the field path upper-cased
 * with {@code _} for {@code .}) and command-line options ({@code --http_port=9000}, {@code
 * --limits.max_request_bytes=1048576}, lists comma-separated). {@code conf/serval.yaml} documents every field.
 *
 * <pre>{@code
 * ServerConfig config = ServerConfig.load(System.getenv(), List.of("--http_port=0", "--grpc_port=0"));
 * }</pre>
 */
public final class ServerConfig {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> TOP_LEVEL =
      Set.of(
          "http_port",
          "grpc_port",
          "metrics_port",
          "model_repositories",
          "cpu_threads",
          "limits",
          "log_level",
          "shutdown_timeout_seconds",
          "response_cache_bytes",
          "engines");
  private static final Set<String> LIMITS = Set.of("max_request_bytes", "max_request_elements");
  private static final List<String> LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");
  private static final String ENV_PREFIX = "SERVAL_";

  private final int httpPort;
  private final int grpcPort;
  private final int metricsPort;
  private final List<Path> modelRepositories;
  private final int cpuThreads;
  private final int maxRequestBytes;
  private final long maxRequestElements;
  private final String logLevel;
  private final int shutdownTimeoutSeconds;
  private final long responseCacheBytes;
  private final Map<String, Map<String, String>> engines;

  private ServerConfig(
      int httpPort,
      int grpcPort,
      int metricsPort,
      List<Path> modelRepositories,
      int cpuThreads,
      int maxRequestBytes,
      long maxRequestElements,
      String logLevel,
      int shutdownTimeoutSeconds,
      long responseCacheBytes,
      Map<String, Map<String, String>> engines) {
    this.httpPort = httpPort;
    this.grpcPort = grpcPort;
    this.metricsPort = metricsPort;
    this.modelRepositories = List.copyOf(modelRepositories);
    this.cpuThreads = cpuThreads;
    this.maxRequestBytes = maxRequestBytes;
    this.maxRequestElements = maxRequestElements;
    this.logLevel = logLevel;
    this.shutdownTimeoutSeconds = shutdownTimeoutSeconds;
    this.responseCacheBytes = responseCacheBytes;
    this.engines = engines;
  }

  /**
   * Loads the configuration from the environment and the command line (which may name the file with {@code
   * --config FILE}).
   *
   * @throws ConfigException listing every invalid value with where it came from
   */
  public static ServerConfig load(Map<String, String> environment, List<String> args) throws ConfigException {
    Map<String, String> origins = new HashMap<>();
    List<String> errors = new ArrayList<>();
    Map<String, String> options = parseOptions(args, errors);
    String file = options.remove("config");
    String fileOrigin = "--config";
    if (file == null) {
      file = environment.get(ENV_PREFIX + "CONFIG");
      fileOrigin = ENV_PREFIX + "CONFIG";
    }
    ObjectNode tree = JsonNodeFactory.instance.objectNode();
    String source = "defaults";
    if (file != null) {
      source = file;
      try {
        JsonNode read = YAML.readTree(Files.readString(Path.of(file)));
        if (read != null && read.isObject()) {
          tree = (ObjectNode) read;
        } else if (read != null && !read.isMissingNode() && !read.isNull()) {
          errors.add(file + ": the document is " + ConfigReader.describe(read) + " (expected: a mapping)");
        }
      } catch (IOException e) {
        errors.add(fileOrigin + ": cannot read " + file + ": " + e.getMessage());
      }
    }
    for (Map.Entry<String, String> env : environment.entrySet()) {
      String path = envToPath(env.getKey());
      if (path != null) {
        set(tree, path, env.getValue());
        origins.put(path, "environment variable " + env.getKey());
      }
    }
    for (Map.Entry<String, String> option : options.entrySet()) {
      set(tree, option.getKey(), option.getValue());
      origins.put(option.getKey(), "--" + option.getKey());
    }
    String fileName = source;
    ConfigReader reader = ConfigReader.root(tree, path -> origins.getOrDefault(path, fileName));
    reader.errors().addAll(errors);
    return read(reader);
  }

  private static ServerConfig read(ConfigReader root) throws ConfigException {
    root.rejectUnknownFields(TOP_LEVEL);
    int http = (int) root.integer("http_port", 8000, 0, 65535);
    int grpc = (int) root.integer("grpc_port", 8001, 0, 65535);
    int metrics = (int) root.integer("metrics_port", 8002, 0, 65535);
    if (http != 0 && (http == grpc || http == metrics) || grpc != 0 && grpc == metrics) {
      root.error("", "http_port, grpc_port and metrics_port must differ (or be 0 for any free port)");
    }
    List<Path> repositories = new ArrayList<>();
    JsonNode repoNode = root.node().path("model_repositories");
    if (repoNode.isTextual()) {
      for (String part : repoNode.asText().split(",")) {
        if (!part.isBlank()) {
          repositories.add(Path.of(part.trim()));
        }
      }
    } else {
      for (ConfigReader item : root.list("model_repositories")) {
        String value = item.scalar();
        if (value == null || value.isBlank()) {
          item.error("", "is " + ConfigReader.describe(item.node()) + " (expected: a folder path)");
        } else {
          repositories.add(Path.of(value));
        }
      }
    }
    if (!root.has("model_repositories")) {
      repositories.add(Path.of("models"));
    }
    int available = Runtime.getRuntime().availableProcessors();
    int cpu = (int) root.integer("cpu_threads", 0, 0, 4096);
    ConfigReader limits = root.child("limits");
    limits.rejectUnknownFields(LIMITS);
    int maxBytes = (int) limits.integer("max_request_bytes", 64L << 20, 1024, Integer.MAX_VALUE);
    long maxElements = limits.integer("max_request_elements", 1L << 28, 1, Long.MAX_VALUE);
    String level = root.string("log_level", "INFO");
    if (level != null && !LOG_LEVELS.contains(level.toUpperCase(Locale.ROOT))) {
      root.error("log_level", "'" + level + "' (expected one of: " + String.join(", ", LOG_LEVELS) + ")");
    }
    int shutdown = (int) root.integer("shutdown_timeout_seconds", 30, 0, 3600);
    long cacheBytes = root.integer("response_cache_bytes", 256L << 20, 0, Long.MAX_VALUE);
    Map<String, Map<String, String>> engines = new LinkedHashMap<>();
    ConfigReader enginesNode = root.child("engines");
    if (root.has("engines") && !enginesNode.isObject()) {
      root.error("engines", "is " + ConfigReader.describe(enginesNode.node()) + " (expected: a mapping of engine names)");
    } else {
      enginesNode.node().fieldNames().forEachRemaining(name -> engines.put(name, enginesNode.stringMap(name)));
    }
    root.throwIfErrors();
    return new ServerConfig(
        http,
        grpc,
        metrics,
        repositories,
        cpu == 0 ? available : cpu,
        maxBytes,
        maxElements,
        level == null ? "INFO" : level.toUpperCase(Locale.ROOT),
        shutdown,
        cacheBytes,
        engines);
  }

  private static Map<String, String> parseOptions(List<String> args, List<String> errors) {
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--") || arg.length() == 2) {
        errors.add("command line: '" + arg + "' (expected: --field=value or --config FILE)");
        continue;
      }
      int eq = arg.indexOf('=');
      if (eq > 0) {
        options.put(arg.substring(2, eq), arg.substring(eq + 1));
      } else if (i + 1 < args.size()) {
        options.put(arg.substring(2), args.get(++i));
      } else {
        errors.add("command line: " + arg + " has no value (expected: " + arg + "=VALUE)");
      }
    }
    return options;
  }

  /** The field path an environment variable sets, or {@code null} when it is not one of Serval's. */
  private static @Nullable String envToPath(String name) {
    if (!name.startsWith(ENV_PREFIX) || name.equals(ENV_PREFIX + "CONFIG")) {
      return null;
    }
    String rest = name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT);
    for (String field : TOP_LEVEL) {
      if (rest.equals(field)) {
        return field;
      }
    }
    for (String limit : LIMITS) {
      if (rest.equals("limits_" + limit)) {
        return "limits." + limit;
      }
    }
    if (rest.startsWith("engines_") && rest.indexOf('_', "engines_".length()) > 0) {
      int split = rest.indexOf('_', "engines_".length());
      return "engines." + rest.substring("engines_".length(), split) + "." + rest.substring(split + 1);
    }
    return null;
  }

  private static void set(ObjectNode tree, String path, String value) {
    String[] parts = path.split("\\.");
    ObjectNode node = tree;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode next = node.get(parts[i]);
      node = next instanceof ObjectNode ? (ObjectNode) next : node.putObject(parts[i]);
    }
    String last = parts[parts.length - 1];
    if (last.equals("model_repositories")) {
      ArrayNode list = node.putArray(last);
      for (String part : value.split(",")) {
        if (!part.isBlank()) {
          list.add(part.trim());
        }
      }
    } else {
      node.put(last, value);
    }
  }

  /** The HTTP port (Triton's default 8000); 0 picks a free port. */
  public int httpPort() {
    return httpPort;
  }

  /** The gRPC port (8001); every port serves both protocols, this one is where clients expect gRPC. */
  public int grpcPort() {
    return grpcPort;
  }

  /** The port of {@code /metrics} (8002). */
  public int metricsPort() {
    return metricsPort;
  }

  /** The folders models are loaded from, in order; a model name may appear in only one. */
  public List<Path> modelRepositories() {
    return modelRepositories;
  }

  /** The CPU threads inference may use in all (0 in the file means every core of the machine). */
  public int cpuThreads() {
    return cpuThreads;
  }

  /** The largest request body accepted, compressed or not (64 MiB, as Triton). */
  public int maxRequestBytes() {
    return maxRequestBytes;
  }

  /** The largest number of tensor elements one request may carry over all its inputs. */
  public long maxRequestElements() {
    return maxRequestElements;
  }

  /** The root log level. */
  public String logLevel() {
    return logLevel;
  }

  /** How long a stopping server lets in-flight requests finish. */
  public int shutdownTimeoutSeconds() {
    return shutdownTimeoutSeconds;
  }

  /** The byte bound of the response cache that models with {@code response_cache: {enable: true}} share. */
  public long responseCacheBytes() {
    return responseCacheBytes;
  }

  /** Settings per engine name. */
  public Map<String, String> engineSettings(String engine) {
    return engines.getOrDefault(engine, Map.of());
  }
}
