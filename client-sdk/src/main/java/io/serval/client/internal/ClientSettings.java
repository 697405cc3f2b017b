package io.serval.client.internal;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.client.retry.Backoff;
import com.linecorp.armeria.common.SessionProtocol;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What {@link io.serval.client.ServalClientBuilder} decided, handed to a transport: where to connect and how
 * (protocol, factory with its TLS settings), the credentials, the default timeout, and the resilience settings
 * that {@link Resilience} turns into Armeria decorators.
 *
 * @param endpoints the servers calls are balanced over, health-checked when the builder asked for it
 * @param management the management listener for repository load/unload, or {@code null} to use {@code endpoints}
 * @param maxAttempts attempts per call, the first included (1: no retries)
 * @param breaker the circuit breaker's settings, or {@code null} for none
 */
public record ClientSettings(
    SessionProtocol protocol,
    ClientFactory factory,
    EndpointGroup endpoints,
    @Nullable EndpointGroup management,
    @Nullable String token,
    @Nullable String managementToken,
    Duration timeout,
    int maxAttempts,
    Backoff backoff,
    @Nullable BreakerSettings breaker) {

  /**
   * A per-host circuit breaker: it opens when at least {@code minimumRequests} calls in its window failed at
   * {@code failureRate} or more, and lets a trial call through after {@code openWindow}.
   */
  public record BreakerSettings(double failureRate, long minimumRequests, Duration openWindow) {}
}
