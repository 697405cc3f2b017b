package io.serval.client;

/**
 * The client's circuit breaker refused the call without sending it: the server failed too many calls lately.
 * A kind of {@link ServerUnavailableException}; the breaker lets calls through again after its open window.
 */
public final class CircuitOpenException extends ServerUnavailableException {
  private static final long serialVersionUID = 1L;

  CircuitOpenException(Throwable cause) {
    super(0, null, "the circuit breaker is open: the server failed too many recent calls", null, cause);
  }
}
