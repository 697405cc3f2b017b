package io.serval.server.security;

import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.TlsKeyPair;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServerListener;
import io.netty.handler.ssl.ClientAuth;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.security.cert.X509Certificate;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the configuration says about security, installed on a {@link ServerBuilder}: the HTTP, gRPC and
 * metrics ports (HTTPS only, HTTP/1.1 and HTTP/2 through ALPN, when {@code tls} is set; plaintext otherwise), TLS
 * with optional client certificates, the management listener, and {@link AccessControl} in front of every
 * service.
 *
 * <pre>{@code
 * ServalSecurity security = ServalSecurity.of(config); // reads the TLS files: fails before anything is loaded
 * ...
 * security.configure(serverBuilder);
 * }</pre>
 */
public final class ServalSecurity {
  private static final Logger log = LoggerFactory.getLogger(ServalSecurity.class);

  private final ServerConfig config;
  private final @Nullable TlsFiles tls;
  private final BearerTokens tokens;
  private final ManagementListener management;

  private ServalSecurity(ServerConfig config, @Nullable TlsFiles tls) {
    this.config = config;
    this.tls = tls;
    this.tokens = new BearerTokens(config.tokens());
    this.management = new ManagementListener(config.managementAddress(), config.managementPort(),
        List.of(config.httpPort(), config.grpcPort(), config.metricsPort()));
  }

  /**
   * The security {@code config} asks for.
   *
   * @throws ConfigException when a TLS file is not what its field needs (naming the field and the file)
   */
  public static ServalSecurity of(ServerConfig config) throws ConfigException {
    ServerConfig.Tls tls = config.tls();
    return new ServalSecurity(config, tls == null ? null : TlsFiles.read(tls));
  }

  /** The port the management listener is bound to, once {@code server} has started (read back when it is 0). */
  public int managementPort(Server server) {
    return management.port(server);
  }

  /** Whether the ports serve TLS. */
  public boolean tls() {
    return tls != null;
  }

  /**
   * A bearer token for the server's own warm-up requests (infer scope), or {@code null} when no token is needed;
   * valid until {@link #revokeWarmupToken}.
   */
  public @Nullable String issueWarmupToken() {
    return tokens.isEmpty() ? null : tokens.issueWarmupToken();
  }

  public void revokeWarmupToken() {
    tokens.revokeWarmupToken();
  }

  /** Adds the ports, TLS, the management listener and access control to {@code sb}. */
  public void configure(ServerBuilder sb) {
    SessionProtocol protocol = tls == null ? SessionProtocol.HTTP : SessionProtocol.HTTPS;
    sb.port(config.httpPort(), protocol)
        .port(config.grpcPort(), protocol)
        .port(config.metricsPort(), protocol)
        .port(management.bindAddress(), protocol);
    if (tls != null) {
      sb.tls(TlsKeyPair.of(tls.key, tls.chain));
      List<X509Certificate> clientCas = tls.clientCas;
      if (clientCas != null) {
        X509Certificate[] trusted = clientCas.toArray(new X509Certificate[0]);
        sb.tlsCustomizer(ssl -> ssl.clientAuth(ClientAuth.REQUIRE).trustManager(trusted));
      }
    }
    sb.decorator(new AccessControl(tokens, management));
    sb.serverListener(ServerListener.builder().whenStarted(server -> log.info(
        "Security: {}; {}; management calls on {}://{}:{} ({})",
        tls == null ? "plaintext (no tls configured)"
            : tls.clientCas == null ? "TLS" : "TLS with client certificates required",
        tokens.isEmpty() ? "no auth.tokens: every endpoint is open to anyone who reaches the ports"
            : config.tokens().size() + " bearer token(s); health endpoints open",
        protocol.uriText(), config.managementAddress().getHostAddress(), management.port(server),
        tokens.anyWith(Scope.MANAGE) ? "enabled" : "disabled: no token has the manage scope")).build());
    if (tls == null && !tokens.isEmpty()) {
      log.warn("Bearer tokens are configured without tls: they cross the network in plaintext");
    }
  }
}
