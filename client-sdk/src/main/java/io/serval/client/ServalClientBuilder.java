package io.serval.client;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.ClientFactoryBuilder;
import com.linecorp.armeria.client.Endpoint;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.client.endpoint.EndpointSelectionStrategy;
import com.linecorp.armeria.client.endpoint.healthcheck.HealthCheckedEndpointGroup;
import com.linecorp.armeria.client.endpoint.healthcheck.HealthCheckedEndpointGroupBuilder;
import com.linecorp.armeria.client.retry.Backoff;
import com.linecorp.armeria.common.SessionProtocol;
import com.linecorp.armeria.common.TlsKeyPair;
import io.serval.client.internal.ClientSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Configures a {@link ServalClient}. Every setter checks its value at once and names it when it is wrong
 * ({@code maxAttempts: 0 (expected: >= 1)}). Defaults: HTTP, a 30 s timeout per call, 3 attempts with an
 * exponential backoff from 100 ms to 2 s, no circuit breaker, no health checking, plaintext, no token.
 *
 * <p>What each setting becomes in Armeria's client stack: the endpoints an {@link EndpointGroup} with round-robin
 * selection, wrapped in a {@link HealthCheckedEndpointGroup} polling {@code /v2/health/ready} when {@link
 * #healthCheck} is set; retries a {@code RetryingClient} decorator; the circuit breaker a per-host {@code
 * CircuitBreakerClient} decorator; TLS and the connect timeout the {@link ClientFactory}.
 */
public final class ServalClientBuilder {
  private Transport transport = Transport.HTTP;
  private final List<Endpoint> endpoints = new ArrayList<>();
  private final List<Endpoint> managementEndpoints = new ArrayList<>();
  private @Nullable String token;
  private @Nullable String managementToken;
  private Duration timeout = Duration.ofSeconds(30);
  private Duration connectTimeout = Duration.ofSeconds(3);
  private int maxAttempts = 3;
  private Duration backoffInitial = Duration.ofMillis(100);
  private Duration backoffMax = Duration.ofSeconds(2);
  private ClientSettings.@Nullable BreakerSettings breaker;
  private boolean tls;
  private @Nullable Path trustedCertificates;
  private @Nullable Path clientCertificateChain;
  private @Nullable Path clientKey;
  private boolean tlsNoVerify;
  private @Nullable Duration healthCheckInterval;
  private int healthCheckPort;

  ServalClientBuilder() {}

  /** The transport of the v2 calls; {@link Transport#HTTP} unless set. */
  public ServalClientBuilder transport(Transport transport) {
    this.transport = Objects.requireNonNull(transport, "transport");
    return this;
  }

  /** Adds a server, {@code host:port} ({@code [::1]:8001} for IPv6); calls are balanced over all of them. */
  public ServalClientBuilder endpoint(String hostAndPort) {
    endpoints.add(parse("endpoint", hostAndPort));
    return this;
  }

  /** Adds a server; calls are balanced over all of them. */
  public ServalClientBuilder endpoint(String host, int port) {
    endpoints.add(Endpoint.of(host, checkPort("port", port)));
    return this;
  }

  /**
   * Adds a management endpoint, {@code host:port}, where repository load and unload and Serval's management
   * calls go (Serval's management listener, port 8003); without one they go to the server endpoints, as a
   * Triton server serves them there.
   */
  public ServalClientBuilder managementEndpoint(String hostAndPort) {
    managementEndpoints.add(parse("managementEndpoint", hostAndPort));
    return this;
  }

  /** The bearer token sent with every call ({@code Authorization: Bearer <token>}). */
  public ServalClientBuilder bearerToken(String token) {
    this.token = checkToken("bearerToken", token);
    return this;
  }

  /** The bearer token of management calls, when it differs from {@link #bearerToken}. */
  public ServalClientBuilder managementToken(String token) {
    this.managementToken = checkToken("managementToken", token);
    return this;
  }

  /** The default timeout of a call, over all its attempts; an {@link InferRequest} may set its own. */
  public ServalClientBuilder timeout(Duration timeout) {
    this.timeout = positive("timeout", timeout);
    return this;
  }

  /** How long connecting to a server may take. */
  public ServalClientBuilder connectTimeout(Duration connectTimeout) {
    this.connectTimeout = positive("connectTimeout", connectTimeout);
    return this;
  }

  /** Attempts per call, the first included; 1 turns retries off. */
  public ServalClientBuilder maxAttempts(int maxAttempts) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
    }
    this.maxAttempts = maxAttempts;
    return this;
  }

  /** The exponential backoff between attempts, from {@code initial} doubling up to {@code max}, with jitter. */
  public ServalClientBuilder retryBackoff(Duration initial, Duration max) {
    positive("initial", initial);
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("max: " + max + " (expected: >= initial " + initial + ")");
    }
    this.backoffInitial = initial;
    this.backoffMax = max;
    return this;
  }

  /**
   * Adds a circuit breaker per server: once at least {@code minimumRequests} calls in its window failed at a
   * rate of {@code failureRate} or more (transport failures, 5xx, gRPC UNAVAILABLE / INTERNAL), calls to that
   * server fail fast with {@link CircuitOpenException} (or, with retries, go to another server) until a trial
   * call after {@code openWindow} succeeds.
   */
  public ServalClientBuilder circuitBreaker(double failureRate, long minimumRequests, Duration openWindow) {
    if (!(failureRate > 0 && failureRate <= 1)) {
      throw new IllegalArgumentException("failureRate: " + failureRate + " (expected: > 0 and <= 1)");
    }
    if (minimumRequests < 1) {
      throw new IllegalArgumentException("minimumRequests: " + minimumRequests + " (expected: >= 1)");
    }
    this.breaker = new ClientSettings.BreakerSettings(failureRate, minimumRequests, positive("openWindow", openWindow));
    return this;
  }

  /** Connects over TLS, trusting the JVM's default certificate authorities unless told otherwise. */
  public ServalClientBuilder tls() {
    this.tls = true;
    return this;
  }

  /** Connects over TLS, trusting the certificates of a PEM file (a self-signed server certificate, a private CA). */
  public ServalClientBuilder trustedCertificates(Path pemFile) {
    this.trustedCertificates = Objects.requireNonNull(pemFile, "pemFile");
    this.tls = true;
    return this;
  }

  /** Connects over TLS, presenting a client certificate (PEM chain) and its PKCS#8 PEM key. */
  public ServalClientBuilder clientCertificate(Path certificateChain, Path privateKey) {
    this.clientCertificateChain = Objects.requireNonNull(certificateChain, "certificateChain");
    this.clientKey = Objects.requireNonNull(privateKey, "privateKey");
    this.tls = true;
    return this;
  }

  /** Connects over TLS without checking the server's certificate: for development only. */
  public ServalClientBuilder tlsNoVerify() {
    this.tlsNoVerify = true;
    this.tls = true;
    return this;
  }

  /**
   * Checks every server's {@code /v2/health/ready} every {@code interval} and sends calls only to ready ones: a
   * server that stops answering or turns not ready is left out until it is ready again.
   */
  public ServalClientBuilder healthCheck(Duration interval) {
    this.healthCheckInterval = positive("interval", interval);
    return this;
  }

  /**
   * The port health checks go to, when it is not the endpoints' own: a Triton server answers {@code
   * /v2/health/ready} on its HTTP port only, so a gRPC client checks there. Serval answers on every port.
   */
  public ServalClientBuilder healthCheckPort(int port) {
    this.healthCheckPort = checkPort("healthCheckPort", port);
    return this;
  }

  /**
   * The client.
   *
   * @throws IllegalStateException when no endpoint was added
   */
  public ServalClient build() {
    if (endpoints.isEmpty()) {
      throw new IllegalStateException("no endpoint (expected: at least one endpoint(\"host:port\"))");
    }
    SessionProtocol protocol = tls ? SessionProtocol.HTTPS : SessionProtocol.HTTP;
    ClientFactory factory = factory();
    EndpointGroup group = EndpointGroup.of(EndpointSelectionStrategy.roundRobin(), endpoints);
    if (healthCheckInterval != null) {
      HealthCheckedEndpointGroupBuilder checked = HealthCheckedEndpointGroup.builder(group, "/v2/health/ready")
          .clientFactory(factory)
          .protocol(protocol)
          .retryInterval(healthCheckInterval);
      if (healthCheckPort > 0) {
        checked.port(healthCheckPort);
      }
      group = checked.build();
    }
    EndpointGroup management = managementEndpoints.isEmpty()
        ? null
        : EndpointGroup.of(EndpointSelectionStrategy.roundRobin(), managementEndpoints);
    Backoff backoff = Backoff.exponential(backoffInitial.toMillis(), backoffMax.toMillis()).withJitter(0.2);
    ClientSettings settings = new ClientSettings(protocol, factory, group, management, token,
        managementToken != null ? managementToken : token, timeout, maxAttempts, backoff, breaker);
    return new ServalClient(transport, settings);
  }

  private ClientFactory factory() {
    ClientFactoryBuilder factory = ClientFactory.builder().connectTimeout(connectTimeout);
    if (tlsNoVerify) {
      factory.tlsNoVerify();
    }
    Path trusted = trustedCertificates;
    if (trusted != null) {
      factory.tlsCustomizer(ssl -> ssl.trustManager(trusted.toFile()));
    }
    Path chain = clientCertificateChain;
    Path key = clientKey;
    if (chain != null && key != null) {
      factory.tls(TlsKeyPair.of(key.toFile(), chain.toFile()));
    }
    return factory.build();
  }

  private static Endpoint parse(String what, String hostAndPort) {
    Endpoint endpoint;
    try {
      endpoint = Endpoint.parse(hostAndPort);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + ": \"" + hostAndPort + "\" (expected: host:port)", e);
    }
    if (!endpoint.hasPort()) {
      throw new IllegalArgumentException(what + ": \"" + hostAndPort + "\" has no port (expected: host:port)");
    }
    return endpoint;
  }

  private static int checkPort(String what, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(what + ": " + port + " (expected: 1 to 65535)");
    }
    return port;
  }

  private static String checkToken(String what, String token) {
    if (token.isBlank() || token.chars().anyMatch(c -> c < 0x21 || c > 0x7E)) {
      throw new IllegalArgumentException(what + ": a token of " + token.length() + " characters with blanks or"
          + " non-ASCII characters (expected: printable ASCII without spaces)");
    }
    return token;
  }

  private static Duration positive(String what, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(what + ": " + value + " (expected: > 0)");
    }
    return value;
  }
}
