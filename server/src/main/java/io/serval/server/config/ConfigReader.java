package io.serval.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Reads typed values from a YAML tree and collects every problem as {@code "<source>: <field>: <message>"},
 * so that one pass reports all errors of a file instead of the first.
 */
final class ConfigReader {
  private final JsonNode node;
  private final String path;
  private final Function<String, String> sourceOfPath;
  private final List<String> errors;

  private ConfigReader(JsonNode node, String path, Function<String, String> sourceOfPath, List<String> errors) {
    this.node = node;
    this.path = path;
    this.sourceOfPath = sourceOfPath;
    this.errors = errors;
  }

  /** A reader of a whole document; {@code sourceOfPath} names where the value at a field path came from. */
  static ConfigReader root(JsonNode node, Function<String, String> sourceOfPath) {
    return new ConfigReader(node, "", sourceOfPath, new ArrayList<>());
  }

  ConfigReader child(String field) {
    return new ConfigReader(node.path(field), join(field), sourceOfPath, errors);
  }

  boolean has(String field) {
    return node.has(field) && !node.get(field).isNull();
  }

  boolean isObject() {
    return node.isObject();
  }

  String path() {
    return path;
  }

  void error(String field, String message) {
    String at = field.isEmpty() ? path : join(field);
    errors.add(sourceOfPath.apply(at) + ": " + (at.isEmpty() ? "" : at + ": ") + message);
  }

  void rejectUnknownFields(Set<String> known) {
    if (!node.isObject()) {
      if (!node.isMissingNode() && !node.isNull()) {
        error("", "is " + describe(node) + " (expected: a mapping with fields " + new TreeSet<>(known) + ")");
      }
      return;
    }
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        error(name, "unknown field (expected one of: " + String.join(", ", new TreeSet<>(known)) + ")");
      }
    }
  }

  @Nullable String string(String field, @Nullable String defaultValue) {
    JsonNode value = node.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return defaultValue;
    }
    if (!value.isValueNode() || value.asText().isEmpty()) {
      error(field, "is " + describe(value) + " (expected: a non-empty string)");
      return defaultValue;
    }
    return value.asText();
  }

  long integer(String field, long defaultValue, long min, long max) {
    JsonNode value = node.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return defaultValue;
    }
    long parsed;
    if (value.isIntegralNumber() && value.canConvertToLong()) {
      parsed = value.asLong();
    } else if (value.isTextual() && value.asText().trim().matches("-?\\d{1,18}")) {
      parsed = Long.parseLong(value.asText().trim());
    } else {
      error(field, "is " + describe(value) + " (expected: an integer from " + min + " to " + max + ")");
      return defaultValue;
    }
    if (parsed < min || parsed > max) {
      error(field, parsed + " (expected: " + min + " to " + max + ")");
      return defaultValue;
    }
    return parsed;
  }

  boolean bool(String field, boolean defaultValue) {
    JsonNode value = node.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return defaultValue;
    }
    if (value.isBoolean()) {
      return value.asBoolean();
    }
    if (value.isTextual() && (value.asText().equals("true") || value.asText().equals("false"))) {
      return Boolean.parseBoolean(value.asText());
    }
    error(field, "is " + describe(value) + " (expected: true or false)");
    return defaultValue;
  }

  /** The items of a list field, each as a reader; a missing field is an empty list. */
  List<ConfigReader> list(String field) {
    JsonNode value = node.path(field);
    List<ConfigReader> items = new ArrayList<>();
    if (value.isMissingNode() || value.isNull()) {
      return items;
    }
    if (!value.isArray()) {
      error(field, "is " + describe(value) + " (expected: a list)");
      return items;
    }
    for (int i = 0; i < value.size(); i++) {
      items.add(new ConfigReader(value.get(i), join(field) + "[" + i + "]", sourceOfPath, errors));
    }
    return items;
  }

  /** A list of integers, each checked against {@code min}. */
  long @Nullable [] integers(String field, long min) {
    List<ConfigReader> items = list(field);
    if (!has(field) || !node.path(field).isArray()) {
      return null;
    }
    long[] values = new long[items.size()];
    for (int i = 0; i < values.length; i++) {
      ConfigReader item = items.get(i);
      if (item.node.isIntegralNumber() && item.node.canConvertToLong() && item.node.asLong() >= min) {
        values[i] = item.node.asLong();
      } else {
        item.error("", "is " + describe(item.node) + " (expected: an integer >= " + min + ")");
      }
    }
    return values;
  }

  /** A mapping of names to scalar values, as strings. */
  Map<String, String> stringMap(String field) {
    JsonNode value = node.path(field);
    Map<String, String> map = new LinkedHashMap<>();
    if (value.isMissingNode() || value.isNull()) {
      return map;
    }
    if (!value.isObject()) {
      error(field, "is " + describe(value) + " (expected: a mapping of names to values)");
      return map;
    }
    for (Map.Entry<String, JsonNode> entry : value.properties()) {
      if (entry.getValue().isValueNode()) {
        map.put(entry.getKey(), entry.getValue().asText());
      } else {
        error(field + "." + entry.getKey(), "is " + describe(entry.getValue()) + " (expected: a scalar value)");
      }
    }
    return map;
  }

  /** The text of this node when it is a scalar, else {@code null}. */
  @Nullable String scalar() {
    return node.isValueNode() && !node.isNull() ? node.asText() : null;
  }

  JsonNode node() {
    return node;
  }

  List<String> errors() {
    return errors;
  }

  void throwIfErrors() throws ConfigException {
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
  }

  private String join(String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  static String describe(JsonNode value) {
    if (value.isMissingNode() || value instanceof MissingNode) {
      return "missing";
    }
    if (value.isTextual()) {
      return "'" + value.asText() + "'";
    }
    if (value.isArray()) {
      return "a list";
    }
    if (value.isObject()) {
      return "a mapping";
    }
    return value.toString();
  }
}
