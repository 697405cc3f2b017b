package io.serval.server;

import com.linecorp.armeria.server.healthcheck.SettableHealthChecker;
import io.serval.server.repository.ModelRepository;

/**
 * Whether the server is live and ready, as both protocols report it. Ready means accepting work with every
 * model loaded (Triton's strict readiness); a stopping server turns not-ready first, so load balancers move away
 * before the drain.
 */
public final class ServerStatus {
  private final ModelRepository repository;
  private final SettableHealthChecker healthChecker = new SettableHealthChecker(false);
  private volatile boolean stopping;

  ServerStatus(ModelRepository repository) {
    this.repository = repository;
  }

  /** Live until the process exits. */
  public boolean live() {
    return true;
  }

  public boolean ready() {
    return !stopping && repository.allReady();
  }

  /** The Armeria health checker behind {@code grpc.health.v1.Health}, kept in step with {@link #ready()}. */
  SettableHealthChecker healthChecker() {
    return healthChecker;
  }

  void started() {
    healthChecker.setHealthy(ready());
  }

  void stopping() {
    stopping = true;
    healthChecker.setHealthy(false);
  }
}
