package io.serval.engine;

/**
 * Whether an engine can load models on this machine, and if not, why: an engine whose native runtime is missing
 * reports itself unavailable instead of failing the server.
 */
public final class EngineAvailability {
  private static final EngineAvailability AVAILABLE = new EngineAvailability(true, "");

  private final boolean available;
  private final String reason;

  private EngineAvailability(boolean available, String reason) {
    this.available = available;
    this.reason = reason;
  }

  public static EngineAvailability available() {
    return AVAILABLE;
  }

  /** Unavailable, with a reason a person can act on ("OpenVINO runtime not found at ..."). */
  public static EngineAvailability unavailable(String reason) {
    return new EngineAvailability(false, reason);
  }

  public boolean isAvailable() {
    return available;
  }

  /** Why the engine is unavailable; empty when it is available. */
  public String reason() {
    return reason;
  }

  @Override
  public String toString() {
    return available ? "available" : "unavailable: " + reason;
  }
}
