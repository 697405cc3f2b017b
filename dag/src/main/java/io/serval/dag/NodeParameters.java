package io.serval.dag;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A node's {@code params}, as plain values (strings, numbers, booleans, lists, maps), with accessors that fail
 * with a message naming the parameter and what was expected.
 */
public final class NodeParameters {
  private final Map<String, Object> values;
  private final Path folder;

  /** Parameters whose relative {@link #file file} names are resolved against the working directory. */
  public NodeParameters(Map<String, Object> values) {
    this(values, Path.of(""));
  }

  /** Parameters whose relative {@link #file file} names are resolved against {@code folder}, the pipeline's. */
  public NodeParameters(Map<String, Object> values, Path folder) {
    this.values = Map.copyOf(values);
    this.folder = folder;
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

  /**
   * A required whole number from {@code min} to {@code max}: a YAML integer, never a fraction ({@code 3.0} is
   * refused too, so a typo cannot round).
   */
  public int integer(String name, int min, int max) {
    Object value = values.get(name);
    if (value == null) {
      throw new IllegalArgumentException("params." + name + ": missing (expected: " + integerRange(min, max) + ")");
    }
    return integerValue(name, value, min, max);
  }

  /** A whole number from {@code min} to {@code max}, or {@code defaultValue} when absent. */
  public int integer(String name, int defaultValue, int min, int max) {
    Object value = values.get(name);
    return value == null ? defaultValue : integerValue(name, value, min, max);
  }

  /** A required finite number (an integer or a fraction). */
  public double number(String name) {
    Object value = values.get(name);
    if (value == null) {
      throw new IllegalArgumentException("params." + name + ": missing (expected: a number)");
    }
    return numberValue(name, value, value, "a number");
  }

  /** A finite number, or {@code defaultValue} when absent. */
  public double number(String name, double defaultValue) {
    Object value = values.get(name);
    return value == null ? defaultValue : numberValue(name, value, value, "a number");
  }

  /**
   * A non-empty list of finite numbers ({@code [0.485, 0.456, 0.406]}; one number alone counts as a list of one),
   * or a copy of {@code defaultValue} when absent.
   */
  public double[] numbers(String name, double[] defaultValue) {
    Object value = values.get(name);
    if (value == null) {
      return defaultValue.clone();
    }
    if (value instanceof Number) {
      return new double[] {numberValue(name, value, value, "a list of numbers")};
    }
    if (!(value instanceof List<?> list) || list.isEmpty()) {
      throw new IllegalArgumentException("params." + name + ": is " + value + " (expected: a list of numbers)");
    }
    double[] result = new double[list.size()];
    for (int i = 0; i < result.length; i++) {
      result[i] = numberValue(name, list.get(i), value, "a list of numbers");
    }
    return result;
  }

  /**
   * A required list of whole numbers, which may be empty ({@code [1, -1, 48]}, or {@code []}): a tensor shape's
   * dimensions.
   */
  public long[] wholeNumbers(String name) {
    Object value = values.get(name);
    boolean valid = value instanceof List<?> list && list.stream().allMatch(item -> item instanceof Integer
        || item instanceof Long || item instanceof Short || item instanceof Byte);
    if (!valid) {
      throw new IllegalArgumentException("params." + name + ": " + (value == null ? "missing" : "is " + value)
          + " (expected: a list of whole numbers)");
    }
    return ((List<?>) value).stream().mapToLong(item -> ((Number) item).longValue()).toArray();
  }

  /** A list of strings (it may be empty), or {@code null} when absent. */
  public @Nullable List<String> strings(String name) {
    Object value = values.get(name);
    if (value == null) {
      return null;
    }
    if (!(value instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
      throw new IllegalArgumentException("params." + name + ": is " + value
          + " (expected: a list of strings; quote numbers and booleans)");
    }
    return list.stream().map(String.class::cast).toList();
  }

  /** One of {@code allowed}, matched exactly, or {@code defaultValue} when absent. */
  public String choice(String name, String defaultValue, List<String> allowed) {
    String value = optionalString(name);
    if (value == null) {
      return defaultValue;
    }
    if (!allowed.contains(value)) {
      throw new IllegalArgumentException("params." + name + ": is " + value + " (expected one of: "
          + String.join(", ", allowed) + ")");
    }
    return value;
  }

  /** {@code true} or {@code false}, or {@code defaultValue} when absent. */
  public boolean bool(String name, boolean defaultValue) {
    Object value = values.get(name);
    if (value == null) {
      return defaultValue;
    }
    if (!(value instanceof Boolean)) {
      throw new IllegalArgumentException("params." + name + ": is " + value + " (expected: true or false)");
    }
    return (Boolean) value;
  }

  /**
   * A required file that must exist and be readable: a path relative to the pipeline's folder ({@code
   * dictionary: keys.txt} next to {@code pipeline.yaml}) or absolute.
   */
  public Path file(String name) {
    String value = string(name);
    Path file;
    try {
      file = folder.resolve(value);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("params." + name + ": '" + value + "' is not a file name");
    }
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new IllegalArgumentException("params." + name + ": no readable file '" + value + "'"
          + (file.isAbsolute() && Path.of(value).isAbsolute() ? "" : " in the pipeline's folder"));
    }
    return file;
  }

  /** Whether the parameter is given. */
  public boolean has(String name) {
    return values.containsKey(name);
  }

  private static int integerValue(String name, Object value, int min, int max) {
    boolean whole = value instanceof Integer || value instanceof Long || value instanceof Short
        || value instanceof Byte || value instanceof BigInteger;
    if (!whole || ((Number) value).doubleValue() < min || ((Number) value).doubleValue() > max) {
      throw new IllegalArgumentException("params." + name + ": is " + value + " (expected: "
          + integerRange(min, max) + ")");
    }
    return ((Number) value).intValue();
  }

  private static String integerRange(int min, int max) {
    return max == Integer.MAX_VALUE ? "an integer >= " + min : "an integer from " + min + " to " + max;
  }

  private static double numberValue(String name, Object value, Object whole, String expected) {
    if (!(value instanceof Number) || !Double.isFinite(((Number) value).doubleValue())) {
      throw new IllegalArgumentException("params." + name + ": is " + whole + " (expected: " + expected + ")");
    }
    return ((Number) value).doubleValue();
  }

  /** A mapping of keys to lists of strings ({@code {text: [ocr], table: [cells, merge]}}); empty when absent. */
  public Map<String, List<String>> caseLists(String name) {
    Object value = values.get(name);
    if (value == null) {
      return Map.of();
    }
    Map<String, List<String>> lists = new LinkedHashMap<>();
    boolean valid = value instanceof Map;
    if (valid) {
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
        valid &= entry.getValue() instanceof List
            && ((List<?>) entry.getValue()).stream().allMatch(String.class::isInstance);
        if (valid) {
          lists.put(String.valueOf(entry.getKey()),
              ((List<?>) entry.getValue()).stream().map(String.class::cast).toList());
        }
      }
    }
    if (!valid) {
      throw new IllegalArgumentException(
          "params." + name + ": is " + value + " (expected: a mapping of value -> [node, ...])");
    }
    return lists;
  }

  /** Fails for a parameter outside {@code known}, listing them. */
  public void rejectUnknown(List<String> known) {
    for (String name : values.keySet()) {
      if (!known.contains(name)) {
        throw new IllegalArgumentException("params." + name + ": unknown parameter ("
            + (known.isEmpty() ? "this operator takes none" : "expected one of: " + String.join(", ", known))
            + ")");
      }
    }
  }
}
