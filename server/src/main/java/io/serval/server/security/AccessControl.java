package io.serval.server.security;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides every request before it reaches a service: management calls only on the management listener and only
 * the calls that listener serves there; then, when tokens are configured, a bearer token with the scope the
 * endpoint needs ({@link Endpoints}). Health endpoints are always open.
 */
final class AccessControl implements DecoratingHttpServiceFunction {
  private static final Logger log = LoggerFactory.getLogger(AccessControl.class);
  private static final String BEARER = "bearer ";
  private static final String REALM = "Bearer realm=\"serval\"";

  private final BearerTokens tokens;
  private final ManagementListener management;

  AccessControl(BearerTokens tokens, ManagementListener management) {
    this.tokens = tokens;
    this.management = management;
  }

  @Override
  public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
    @Nullable Scope needed = Endpoints.scopeNeeded(ctx.path());
    boolean onManagementListener = management.accepted(ctx);
    if (needed == Scope.MANAGE && !onManagementListener) {
      return refuse(ctx, req, Refusal.NOT_HERE, "management calls (repository load and unload, version labels,"
          + " routes, the console's data) are served on the management port only (management.port, bound to"
          + " management.address)", null);
    }
    if (needed == Scope.MANAGE && !tokens.anyWith(Scope.MANAGE)) {
      return refuse(ctx, req, Refusal.FORBIDDEN, "management calls are disabled: to enable them, add a token with"
          + " the 'manage' scope to auth.tokens in the server configuration and restart the server", null);
    }
    if (needed != Scope.MANAGE && needed != null && onManagementListener) {
      return refuse(ctx, req, Refusal.NOT_HERE, "the management port serves only management calls (repository"
          + " load and unload, version labels, routes, the console) and health checks; send other calls to the HTTP or gRPC port", null);
    }
    if (needed == null || tokens.isEmpty()) {
      return delegate.serve(ctx, req);
    }
    @Nullable String token = bearerToken(req.headers().get(HttpHeaderNames.AUTHORIZATION));
    if (token == null) {
      return refuse(ctx, req, Refusal.UNAUTHENTICATED, "this endpoint needs a bearer token with the '"
          + needed.configName() + "' scope (header Authorization: Bearer <token>)", REALM);
    }
    BearerTokens.@Nullable Holder holder = tokens.find(token);
    if (holder == null) {
      return refuse(ctx, req, Refusal.UNAUTHENTICATED, "the bearer token is not valid",
          REALM + ", error=\"invalid_token\"");
    }
    ctx.logBuilder().authenticatedUser(holder.name());
    if (!holder.scopes().contains(needed)) {
      return refuse(ctx, req, Refusal.FORBIDDEN, "token '" + holder.name() + "' does not have the '"
          + needed.configName() + "' scope that this endpoint needs",
          REALM + ", error=\"insufficient_scope\", scope=\"" + needed.configName() + "\"");
    }
    return delegate.serve(ctx, req);
  }

  /** The token of an {@code Authorization: Bearer <token>} header, or {@code null} for any other header. */
  private static @Nullable String bearerToken(@Nullable String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return null;
    }
    String token = authorization.substring(BEARER.length()).trim();
    return token.isEmpty() ? null : token;
  }

  private static HttpResponse refuse(
      ServiceRequestContext ctx, HttpRequest req, Refusal refusal, String message, @Nullable String challenge) {
    log.debug("[{}] {} {} from {} refused ({}): {}",
        ctx.id().text(), ctx.method(), ctx.path(), ctx.remoteAddress(), refusal, message);
    return refusal.response(ctx, req, message, challenge);
  }
}
