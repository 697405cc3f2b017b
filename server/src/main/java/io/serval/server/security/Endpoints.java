package io.serval.server.security;

import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The scope each endpoint needs, by request path (the path Armeria routes by, so a request cannot reach a
 * service under a path classified otherwise). Anything not named here needs {@link Scope#INFER}: a new endpoint
 * is protected until it is deliberately opened.
 */
final class Endpoints {
  private static final String GRPC_V2 = "/inference.GRPCInferenceService/";
  /** Liveness and readiness, HTTP and gRPC: open, so that probes need no token. */
  private static final Set<String> OPEN = Set.of(
      "/v2/health/live",
      "/v2/health/ready",
      GRPC_V2 + "ServerLive",
      GRPC_V2 + "ServerReady");
  private static final String GRPC_HEALTH = "/grpc.health.v1.Health/";
  private static final Pattern HTTP_MANAGEMENT = Pattern.compile(
      "/v2/repository/models/[^/]+/(load|unload)|/v1/models/[^/]+/(labels(/[^/]+)?|default_version)"
          + "|/v1/routes(/.*)?|/v1/console/state|/v1/engines");
  /** The console's page: open (it holds no data; its calls for data need the manage scope). */
  private static final String CONSOLE = "/console";
  private static final Set<String> GRPC_MANAGEMENT = Set.of(
      GRPC_V2 + "RepositoryModelLoad",
      GRPC_V2 + "RepositoryModelUnload");

  private Endpoints() {}

  /** The scope a request to {@code path} needs, or {@code null} when the endpoint is open to everyone. */
  static @Nullable Scope scopeNeeded(String path) {
    if (OPEN.contains(path) || path.startsWith(GRPC_HEALTH) || path.equals(CONSOLE)) {
      return null;
    }
    if (path.equals("/metrics")) {
      return Scope.METRICS;
    }
    if (GRPC_MANAGEMENT.contains(path) || HTTP_MANAGEMENT.matcher(path).matches()) {
      return Scope.MANAGE;
    }
    return Scope.INFER;
  }
}
