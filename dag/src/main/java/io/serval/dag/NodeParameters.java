package io.serval.dag;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A node's {@code params}, as plain values (strings, numbers, booleans, lists, maps), with accessors that fail
 * with a message naming the parameter and what was expected.
 */
public final class NodeParameters {
  private final Map<String, Object> values;

  public NodeParameters(Map<String, Object> values) {
    this.values = Map.copyOf(values);
  }

  /** A required string. */
  public String string(String name) {
    String value = optionalString(name);
    if (value == null) {
      throw new IllegalArgumentException("params." + name + ": missing (expected: a string)");
    }
    return value;
  }

  /** A string, or {@code null} when absent. */
  public @Nullable String optionalString(String name) {
    Object value = values.get(name);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String)) {
      throw new IllegalArgumentException("params." + name + ": is " + value + " (expected: a string)");
    }
    return (String) value;
  }

  /** Fails for a parameter outside {@code known}, listing them. */
  public void rejectUnknown(List<String> known) {
    for (String name : values.keySet()) {
      if (!known.contains(name)) {
        throw new IllegalArgumentException("params." + name + ": unknown parameter (expected one of: "
            + String.join(", ", known) + ")");
      }
    }
  }
}
