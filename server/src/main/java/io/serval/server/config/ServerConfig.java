package io.serval.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.serval.server.admission.AdmissionControl;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
          "engines",
          "tls",
          "auth",
          "management",
          "warmup",
          "model_control_mode",
          "repository");
  private static final Set<String> LIMITS = Set.of("max_request_bytes", "max_request_elements",
      "max_inflight_requests", "max_inflight_bytes", "max_stream_inflight");
  private static final Set<String> TLS = Set.of("cert", "key", "client_ca");
  private static final Set<String> AUTH = Set.of("tokens");
  private static final Set<String> TOKEN = Set.of("name", "sha256", "scopes");
  private static final Set<String> MANAGEMENT = Set.of("port", "address");
  private static final Set<String> WARMUP = Set.of("requests", "max_seconds");
  private static final Set<String> REPOSITORY = Set.of("poll_seconds", "settle_ms", "ready_file",
      "warmup_requests");
  /** How the repository takes changes: Triton's model control modes. */
  public static final List<String> CONTROL_MODES = List.of("none", "poll", "explicit");
  /** The scopes a bearer token can hold: {@code infer} (every v2 call), {@code metrics}, {@code manage}. */
  public static final List<String> SCOPES = List.of("infer", "manage", "metrics");
  private static final List<String> LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");
  private static final String ENV_PREFIX = "SERVAL_";

  private final int httpPort;
  private final int grpcPort;
  private final int metricsPort;
  private final List<Path> modelRepositories;
  private final int cpuThreads;
  private final int maxRequestBytes;
  private final long maxRequestElements;
  private final InflightLimits inflight;
  private final String logLevel;
  private final int shutdownTimeoutSeconds;
  private final long responseCacheBytes;
  private final Map<String, Map<String, String>> engines;
  private final @Nullable Tls tls;
  private final List<Token> tokens;
  private final int managementPort;
  private final InetAddress managementAddress;
  private final Warmup warmup;
  private final String modelControlMode;
  private final Repository repository;

  private ServerConfig(
      int httpPort,
      int grpcPort,
      int metricsPort,
      List<Path> modelRepositories,
      int cpuThreads,
      int maxRequestBytes,
      long maxRequestElements,
      InflightLimits inflight,
      String logLevel,
      int shutdownTimeoutSeconds,
      long responseCacheBytes,
      Map<String, Map<String, String>> engines,
      @Nullable Tls tls,
      List<Token> tokens,
      int managementPort,
      InetAddress managementAddress,
      Warmup warmup,
      String modelControlMode,
      Repository repository) {
    this.httpPort = httpPort;
    this.grpcPort = grpcPort;
    this.metricsPort = metricsPort;
    this.modelRepositories = List.copyOf(modelRepositories);
    this.cpuThreads = cpuThreads;
    this.maxRequestBytes = maxRequestBytes;
    this.maxRequestElements = maxRequestElements;
    this.inflight = inflight;
    this.logLevel = logLevel;
    this.shutdownTimeoutSeconds = shutdownTimeoutSeconds;
    this.responseCacheBytes = responseCacheBytes;
    this.engines = engines;
    this.tls = tls;
    this.tokens = List.copyOf(tokens);
    this.managementPort = managementPort;
    this.managementAddress = managementAddress;
    this.warmup = warmup;
    this.modelControlMode = modelControlMode;
    this.repository = repository;
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
    InflightLimits inflight = new InflightLimits(
        (int) limits.integer("max_inflight_requests", AdmissionControl.defaultMaxRequests(), 1, Integer.MAX_VALUE),
        limits.integer("max_inflight_bytes", AdmissionControl.defaultMaxBytes(), 1, Long.MAX_VALUE),
        (int) limits.integer("max_stream_inflight", 64, 1, 1 << 20));
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
    Tls tls = readTls(root);
    List<Token> tokens = readTokens(root);
    ConfigReader management = root.child("management");
    management.rejectUnknownFields(MANAGEMENT);
    int managementPort = (int) management.integer("port", 8003, 0, 65535);
    if (managementPort != 0 && (managementPort == http || managementPort == grpc || managementPort == metrics)) {
      management.error("port",
          managementPort + " is also http_port, grpc_port or metrics_port (expected: a port of its own)");
    }
    InetAddress managementAddress = InetAddress.getLoopbackAddress();
    String address = management.string("address", null);
    if (address != null) {
      try {
        managementAddress = InetAddress.getByName(address);
      } catch (UnknownHostException e) {
        management.error("address", "'" + address + "' is not an IP address or a known host name");
      }
    }
    if (managementPort == 0 && managementAddress.isAnyLocalAddress() && (http == 0 || grpc == 0 || metrics == 0)) {
      // Every port would be a free port on every interface: nothing would tell the management one apart.
      management.error("port", "0 with a wildcard address needs http_port, grpc_port and metrics_port set"
          + " (expected: a port number, or a specific management.address such as 127.0.0.1)");
    }
    ConfigReader warmupNode = root.child("warmup");
    warmupNode.rejectUnknownFields(WARMUP);
    Warmup warmup = new Warmup((int) warmupNode.integer("requests", 20, 0, 1_000_000),
        (int) warmupNode.integer("max_seconds", 10, 1, 3600));
    String mode = root.string("model_control_mode", "poll");
    if (mode != null && !CONTROL_MODES.contains(mode)) {
      root.error("model_control_mode", "'" + mode + "' (expected one of: " + String.join(", ", CONTROL_MODES) + ")");
    }
    ConfigReader repositoryNode = root.child("repository");
    repositoryNode.rejectUnknownFields(REPOSITORY);
    String readyFile = repositoryNode.string("ready_file", null);
    if (readyFile != null && (readyFile.isEmpty() || readyFile.contains("/") || readyFile.contains("\\"))) {
      repositoryNode.error("ready_file", "'" + readyFile + "' (expected: a file name, such as READY)");
    }
    Repository repository = new Repository((int) repositoryNode.integer("poll_seconds", 10, 1, 86_400),
        repositoryNode.integer("settle_ms", 250, 0, 600_000), readyFile,
        (int) repositoryNode.integer("warmup_requests", 4, 0, 10_000));
    root.throwIfErrors();
    return new ServerConfig(
        http,
        grpc,
        metrics,
        repositories,
        cpu == 0 ? defaultCpuThreads(available) : cpu,
        maxBytes,
        maxElements,
        inflight,
        level == null ? "INFO" : level.toUpperCase(Locale.ROOT),
        shutdown,
        cacheBytes,
        engines,
        tls,
        tokens,
        managementPort,
        managementAddress,
        warmup,
        mode == null ? "poll" : mode,
        repository);
  }

  private static @Nullable Tls readTls(ConfigReader root) {
    if (!root.has("tls")) {
      return null;
    }
    ConfigReader tls = root.child("tls");
    tls.rejectUnknownFields(TLS);
    if (!tls.isObject()) {
      return null;
    }
    Path cert = readableFile(tls, "cert", true);
    Path key = readableFile(tls, "key", true);
    Path clientCa = readableFile(tls, "client_ca", false);
    return cert == null || key == null ? null : new Tls(cert, key, clientCa);
  }

  /** The path in {@code field} when it names a readable file; reports it (naming the file) otherwise. */
  private static @Nullable Path readableFile(ConfigReader reader, String field, boolean required) {
    String value = reader.string(field, null);
    if (value == null) {
      if (required && !reader.has(field)) {
        reader.error(field, "missing (expected: the path of a PEM file)");
      }
      return null;
    }
    Path path = Path.of(value);
    if (!Files.isRegularFile(path)) {
      reader.error(field, "cannot read '" + value + "': " + (Files.exists(path) ? "not a file" : "no such file"));
      return null;
    }
    if (!Files.isReadable(path)) {
      reader.error(field, "cannot read '" + value + "': permission denied");
      return null;
    }
    return path;
  }

  private static List<Token> readTokens(ConfigReader root) {
    ConfigReader auth = root.child("auth");
    auth.rejectUnknownFields(AUTH);
    List<Token> tokens = new ArrayList<>();
    if (!auth.isObject()) {
      return tokens;
    }
    Map<String, String> names = new HashMap<>();
    Map<String, String> hashes = new HashMap<>();
    for (ConfigReader item : auth.list("tokens")) {
      if (!item.isObject()) {
        item.error("", "is " + ConfigReader.describe(item.node()) + " (expected: a mapping with name, sha256, scopes)");
        continue;
      }
      item.rejectUnknownFields(TOKEN);
      String name = item.string("name", null);
      if (name == null && !item.has("name")) {
        item.error("name", "missing (expected: a name for logs, such as the client that holds the token)");
      } else if (name != null && names.putIfAbsent(name, item.path()) != null) {
        item.error("name", "'" + name + "' is also the name of " + names.get(name) + " (expected: a unique name)");
      }
      String sha256 = item.string("sha256", null);
      if (sha256 == null && !item.has("sha256")) {
        item.error("sha256", "missing (expected: the hex SHA-256 of the token, from printf %s \"$TOKEN\" | sha256sum)");
      } else if (sha256 != null && !sha256.matches("[0-9a-fA-F]{64}")) {
        item.error("sha256", "is not 64 hex digits (expected: the hex SHA-256 of the token, not the token itself)");
        sha256 = null;
      } else if (sha256 != null && hashes.putIfAbsent(sha256.toLowerCase(Locale.ROOT), item.path()) != null) {
        item.error("sha256", "is also the hash of " + hashes.get(sha256.toLowerCase(Locale.ROOT))
            + " (expected: one entry per token)");
      }
      Set<String> scopes = new LinkedHashSet<>();
      for (ConfigReader scope : item.list("scopes")) {
        String value = scope.scalar();
        if (value == null || !SCOPES.contains(value)) {
          scope.error("", "is " + ConfigReader.describe(scope.node())
              + " (expected one of: " + String.join(", ", SCOPES) + ")");
        } else {
          scopes.add(value);
        }
      }
      if (!item.has("scopes") || item.node().path("scopes").isArray() && item.node().path("scopes").isEmpty()) {
        item.error("scopes", "missing or empty (expected: a list of " + String.join(", ", SCOPES) + ")");
      }
      if (name != null && sha256 != null && !scopes.isEmpty()) {
        tokens.add(new Token(name, sha256.toLowerCase(Locale.ROOT), scopes));
      }
    }
    return tokens;
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
    for (String field : TLS) {
      if (rest.equals("tls_" + field)) {
        return "tls." + field;
      }
    }
    for (String field : MANAGEMENT) {
      if (rest.equals("management_" + field)) {
        return "management." + field;
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

  /**
   * The engine's threads when {@code cpu_threads} is 0: every core but those the network side needs. At load the
   * event loops and the batcher spend 15-20% of a small model's CPU per request (loadtest/reports, 2026-11-26), so
   * one core in eight (at least one, when there are two or more) is left to them; on two cores that served 10-25%
   * more than giving the engine both.
   */
  public static int defaultCpuThreads(int cores) {
    return cores < 2 ? 1 : cores - Math.max(1, cores / 8);
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

  /** The server-wide budget of prediction work in flight, and the bound of one gRPC stream. */
  public InflightLimits inflight() {
    return inflight;
  }

  /**
   * {@code limits.max_inflight_requests} and {@code limits.max_inflight_bytes}, the budget of accepted prediction
   * requests not yet answered, and {@code limits.max_stream_inflight}, the requests one gRPC stream may have in
   * flight before the server stops reading it.
   */
  public static final class InflightLimits {
    private final int requests;
    private final long bytes;
    private final int perStream;

    InflightLimits(int requests, long bytes, int perStream) {
      this.requests = requests;
      this.bytes = bytes;
      this.perStream = perStream;
    }

    public int requests() {
      return requests;
    }

    public long bytes() {
      return bytes;
    }

    public int perStream() {
      return perStream;
    }
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

  /** The TLS settings; {@code null} (the default) serves plaintext. */
  public @Nullable Tls tls() {
    return tls;
  }

  /** The bearer tokens; none (the default) leaves every endpoint open. */
  public List<Token> tokens() {
    return tokens;
  }

  /** The port of the management listener (8003), which alone serves management calls; 0 picks a free port. */
  public int managementPort() {
    return managementPort;
  }

  /** The address the management listener binds to: the loopback address unless configured. */
  public InetAddress managementAddress() {
    return managementAddress;
  }

  /** How the server warms its request path before it reports ready. */
  public Warmup warmup() {
    return warmup;
  }

  /**
   * How the repository takes changes after the start: {@code poll} (the default: watched, with file-system events
   * and a rescan every {@link Repository#pollSeconds}), {@code explicit} (only through the repository API's load
   * and unload) or {@code none} (never).
   */
  public String modelControlMode() {
    return modelControlMode;
  }

  /** How new and changed model versions are taken in. */
  public Repository repository() {
    return repository;
  }

  /**
   * How the repository takes versions in: a full rescan every {@code pollSeconds} besides file-system events; a
   * version folder's files unchanged for {@code settleMillis} before it loads; the file a version folder must hold
   * to count, when {@code readyFile} is set; and requests of generated inputs run into each new load before it
   * takes traffic.
   */
  public record Repository(int pollSeconds, long settleMillis, @Nullable String readyFile, int warmupRequests) {}

  /**
   * The warm-up before ready: {@code requests} sent through each of gRPC and HTTP with binary tensors (a tenth as
   * many through HTTP with JSON), spread over the loaded models, stopping after {@code maxSeconds} whatever is
   * left. 0 requests turns it off.
   */
  public record Warmup(int requests, int maxSeconds) {}

  /**
   * TLS for every port: the server's certificate chain and PKCS#8 private key (PEM files), and, when set, the
   * CA certificates (PEM) that client certificates must chain to, which makes client certificates required.
   */
  public record Tls(Path cert, Path key, @Nullable Path clientCa) {}

  /**
   * A bearer token, known only by the hex SHA-256 of its value (lower case), with the scopes it grants: some of
   * {@link #SCOPES}.
   */
  public record Token(String name, String sha256, Set<String> scopes) {
    public Token {
      scopes = Set.copyOf(scopes);
    }
  }
}
