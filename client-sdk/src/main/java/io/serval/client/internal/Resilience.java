package io.serval.client.internal;

import com.linecorp.armeria.client.HttpClient;
import com.linecorp.armeria.client.circuitbreaker.CircuitBreaker;
import com.linecorp.armeria.client.circuitbreaker.CircuitBreakerClient;
import com.linecorp.armeria.client.circuitbreaker.CircuitBreakerRule;
import com.linecorp.armeria.client.circuitbreaker.FailFastException;
import com.linecorp.armeria.client.retry.RetryConfig;
import com.linecorp.armeria.client.retry.RetryRule;
import com.linecorp.armeria.client.retry.RetryingClient;
import com.linecorp.armeria.common.HttpHeaders;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.grpc.protocol.GrpcHeaderNames;
import io.grpc.Status;
import io.serval.client.ServalClientException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Retries and circuit breaking as Armeria decorators, for both transports.
 *
 * <p>A call is retried only when it surely did not run or the server asked to be asked again: the request was
 * never sent ({@code UnprocessedRequestException}: refused connection, no healthy endpoint), the circuit breaker
 * refused it, or the server answered 503 / UNAVAILABLE or 429 / RESOURCE_EXHAUSTED (overloaded). A 4xx input error
 * never is. Over HTTP a {@code Retry-After} header sets the wait; otherwise the backoff does. Every attempt picks
 * its endpoint again, so a retry goes to another server when the group has one.
 */
public final class Resilience {
  private Resilience() {}

  /** The retrying decorator of HTTP calls (the v2 REST API and Serval's management API). */
  public static Function<? super HttpClient, RetryingClient> httpRetries(ClientSettings settings) {
    RetryRule rule = RetryRule.of(
        RetryRule.builder().onUnprocessed().thenBackoff(settings.backoff()),
        RetryRule.builder().onException(FailFastException.class).thenBackoff(settings.backoff()),
        RetryRule.builder().onStatus(HttpStatus.SERVICE_UNAVAILABLE, HttpStatus.TOO_MANY_REQUESTS)
            .thenBackoff(settings.backoff()));
    return RetryingClient.builder(RetryConfig.builder(rule).maxTotalAttempts(settings.maxAttempts()).build())
        .useRetryAfter(true)
        .newDecorator();
  }

  /** The retrying decorator of unary gRPC calls, which reads the status from the gRPC trailers. */
  public static Function<? super HttpClient, RetryingClient> grpcRetries(ClientSettings settings) {
    RetryRule rule = RetryRule.of(
        RetryRule.builder().onUnprocessed().thenBackoff(settings.backoff()),
        RetryRule.builder().onException(FailFastException.class).thenBackoff(settings.backoff()),
        RetryRule.builder().onStatus(HttpStatus.SERVICE_UNAVAILABLE, HttpStatus.TOO_MANY_REQUESTS)
            .thenBackoff(settings.backoff()),
        RetryRule.builder().onGrpcTrailers((ctx, trailers) -> retryable(trailers)).thenBackoff(settings.backoff()));
    return RetryingClient.builder(RetryConfig.builder(rule).maxTotalAttempts(settings.maxAttempts()).build())
        .useRetryAfter(true)
        .newDecorator();
  }

  /**
   * The per-host circuit breaker decorator: transport failures, 5xx and gRPC UNAVAILABLE / INTERNAL / UNKNOWN
   * count as failures, every other answer (a 4xx included: the server is fine) as a success.
   */
  public static @Nullable Function<? super HttpClient, CircuitBreakerClient> circuitBreaker(ClientSettings settings) {
    ClientSettings.BreakerSettings breaker = settings.breaker();
    if (breaker == null) {
      return null;
    }
    CircuitBreakerRule rule = CircuitBreakerRule.of(
        CircuitBreakerRule.onException(),
        CircuitBreakerRule.onServerErrorStatus(),
        CircuitBreakerRule.builder().onGrpcTrailers((ctx, trailers) -> serverFailure(trailers)).thenFailure(),
        CircuitBreakerRule.builder().thenSuccess());
    return CircuitBreakerClient.newPerHostDecorator(host -> CircuitBreaker.builder("serval-client-" + host)
        .failureRateThreshold(breaker.failureRate())
        .minimumRequestThreshold(breaker.minimumRequests())
        .circuitOpenWindow(breaker.openWindow())
        .build(), rule);
  }

  private static boolean retryable(HttpHeaders trailers) {
    Status.Code code = code(trailers);
    if (code == Status.Code.UNAVAILABLE) {
      return true;
    }
    return code == Status.Code.RESOURCE_EXHAUSTED
        && !ServalClientException.isTooLarge(trailers.get(GrpcHeaderNames.GRPC_MESSAGE));
  }

  private static boolean serverFailure(HttpHeaders trailers) {
    Status.Code code = code(trailers);
    return code == Status.Code.UNAVAILABLE || code == Status.Code.INTERNAL || code == Status.Code.UNKNOWN;
  }

  private static Status.@Nullable Code code(HttpHeaders trailers) {
    Integer status = trailers.getInt(GrpcHeaderNames.GRPC_STATUS);
    return status == null ? null : Status.fromCodeValue(status).getCode();
  }
}
