package io.serval.server;

import com.linecorp.armeria.server.healthcheck.HealthChecker;
import com.linecorp.armeria.server.healthcheck.ListenableHealthChecker;
import io.serval.server.repository.ModelRepository;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Whether the server is live and ready, as both protocols report it. Ready means accepting work with every
 * model loaded (Triton's strict readiness); a stopping server turns not-ready first, so load balancers move away
 * before the drain.
 */
public final class ServerStatus {
  private final ModelRepository repository;
  private final Readiness readiness = new Readiness();
  private volatile boolean started;
  private volatile boolean stopping;

  ServerStatus(ModelRepository repository) {
    this.repository = repository;
  }

  /** Live until the process exits. */
  public boolean live() {
    return true;
  }

  public boolean ready() {
    return started && !stopping && repository.allReady();
  }

  /**
   * The Armeria health checker behind {@code grpc.health.v1.Health}: each check asks {@link #ready()}, and
   * watchers hear of every change this class makes (start, stop).
   */
  ListenableHealthChecker healthChecker() {
    return readiness;
  }

  void started() {
    started = true;
    readiness.changed();
  }

  /** The repository changed: watchers hear it, as readiness may have changed with it. */
  void repositoryChanged() {
    readiness.changed();
  }

  void stopping() {
    stopping = true;
    readiness.changed();
  }

  /** {@link #ready()} as a health checker that watchers can listen to. */
  private final class Readiness implements ListenableHealthChecker {
    private final List<Consumer<? super HealthChecker>> listeners = new CopyOnWriteArrayList<>();

    @Override
    public boolean isHealthy() {
      return ready();
    }

    @Override
    public void addListener(Consumer<? super HealthChecker> listener) {
      listeners.add(listener);
    }

    @Override
    public void removeListener(Consumer<?> listener) {
      listeners.remove(listener);
    }

    void changed() {
      listeners.forEach(listener -> listener.accept(this));
    }
  }
}
