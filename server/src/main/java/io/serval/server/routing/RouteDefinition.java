package io.serval.server.routing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A route as {@code <repo>/<route>/route.yaml} writes it:
 *
 * <pre>{@code
 * variants:                                   # at least one; weights are whole numbers, at least one above 0
 *   - {name: stable, model: digits, version: 1, weight: 90}
 *   - {name: canary, model: digits, version: canary, weight: 10}   # version: a number, a label or left out
 * key_header: X-User-Id                       # optional: a header whose value is the sticky key
 * shadow: {name: next, model: digits, version: 3, max_inflight: 8, timeout_ms: 10000, tolerance: 0.0001}
 * }</pre>
 *
 * <p>{@code model} names anything served: a model or a pipeline. Every problem is reported with the file and the
 * field, all at once.
 */
public record RouteDefinition(String name, List<Variant> variants, @Nullable String keyHeader,
    @Nullable Shadow shadow) {
  /** The file that makes a repository folder a route. */
  public static final String FILE = "route.yaml";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern VARIANT_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}");
  private static final Set<String> TOP = Set.of("variants", "key_header", "shadow");
  private static final Set<String> VARIANT = Set.of("name", "model", "version", "weight");
  private static final Set<String> SHADOW = Set.of("name", "model", "version", "max_inflight", "timeout_ms",
      "tolerance");

  /** One way a route's requests can go: a model (or pipeline) and version, with its share of the traffic. */
  public record Variant(String name, String model, String version, int weight) {}

  /** Where copies of the traffic go, at most {@code maxInflight} at a time, each given up after {@code timeoutMs}. */
  public record Shadow(String name, String model, String version, int maxInflight, long timeoutMs,
      double tolerance) {}

  /**
   * Reads {@code folder/route.yaml} as route {@code name}.
   *
   * @throws InvalidRouteException with every problem found
   */
  public static RouteDefinition read(String name, Path folder) throws InvalidRouteException {
    try {
      return parse(name, Files.readString(folder.resolve(FILE)));
    } catch (IOException e) {
      throw new InvalidRouteException(List.of(FILE + ": cannot be read: " + e.getMessage()));
    }
  }

  /**
   * Parses route {@code name} from {@code yaml}.
   *
   * @throws InvalidRouteException with every problem found
   */
  public static RouteDefinition parse(String name, String yaml) throws InvalidRouteException {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new InvalidRouteException(List.of(FILE + ": not valid YAML: " + e.getOriginalMessage()));
    }
    if (root == null || !root.isObject()) {
      throw new InvalidRouteException(List.of(FILE + ": expected a mapping with variants"));
    }
    List<String> problems = new ArrayList<>();
    unknown(root, TOP, "", problems);
    List<Variant> variants = new ArrayList<>();
    JsonNode list = root.path("variants");
    if (!list.isArray() || list.isEmpty()) {
      problems.add(FILE + ": variants: " + (list.isMissingNode() ? "missing" : "is " + list)
          + " (expected: a list of at least one {name, model, version, weight})");
    } else {
      Set<String> names = new HashSet<>();
      for (int i = 0; i < list.size(); i++) {
        String where = "variants[" + i + "].";
        JsonNode node = list.get(i);
        if (!node.isObject()) {
          problems.add(FILE + ": variants[" + i + "]: is " + node + " (expected: {name, model, version, weight})");
          continue;
        }
        unknown(node, VARIANT, where, problems);
        String variant = text(node, "name", where, problems, true);
        if (variant != null && !VARIANT_NAME.matcher(variant).matches()) {
          problems.add(FILE + ": " + where + "name: '" + variant + "' (expected: letters, digits, '_', '.', '-')");
        } else if (variant != null && !names.add(variant)) {
          problems.add(FILE + ": " + where + "name: '" + variant + "' is used by another variant");
        }
        String model = text(node, "model", where, problems, true);
        String version = text(node, "version", where, problems, false);
        long weight = whole(node, "weight", where, problems, -1, 0, 1_000_000);
        if (variant != null && model != null && weight >= 0) {
          variants.add(new Variant(variant, model, version == null ? "" : version, (int) weight));
        }
      }
      if (problems.isEmpty() && variants.stream().allMatch(v -> v.weight() == 0)) {
        problems.add(FILE + ": variants: every weight is 0 (expected: at least one above 0)");
      }
    }
    String keyHeader = text(root, "key_header", "", problems, false);
    Shadow shadow = null;
    JsonNode shadowNode = root.path("shadow");
    if (!shadowNode.isMissingNode() && !shadowNode.isNull()) {
      if (!shadowNode.isObject()) {
        problems.add(FILE + ": shadow: is " + shadowNode + " (expected: {name, model, version, max_inflight})");
      } else {
        unknown(shadowNode, SHADOW, "shadow.", problems);
        String shadowName = text(shadowNode, "name", "shadow.", problems, true);
        if (shadowName != null && variants.stream().anyMatch(v -> v.name().equals(shadowName))) {
          problems.add(FILE + ": shadow.name: '" + shadowName + "' is also a variant's name");
        }
        String model = text(shadowNode, "model", "shadow.", problems, true);
        String version = text(shadowNode, "version", "shadow.", problems, false);
        long maxInflight = whole(shadowNode, "max_inflight", "shadow.", problems, 16, 1, 100_000);
        long timeout = whole(shadowNode, "timeout_ms", "shadow.", problems, 10_000, 1, 3_600_000);
        double tolerance = 1e-4;
        JsonNode toleranceNode = shadowNode.path("tolerance");
        if (!toleranceNode.isMissingNode()) {
          if (!toleranceNode.isNumber() || toleranceNode.doubleValue() < 0) {
            problems.add(FILE + ": shadow.tolerance: is " + toleranceNode + " (expected: a number >= 0)");
          } else {
            tolerance = toleranceNode.doubleValue();
          }
        }
        if (shadowName != null && model != null) {
          shadow = new Shadow(shadowName, model, version == null ? "" : version, (int) maxInflight, timeout,
              tolerance);
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidRouteException(problems);
    }
    return new RouteDefinition(name, List.copyOf(variants), keyHeader, shadow);
  }

  private static void unknown(JsonNode node, Set<String> known, String where, List<String> problems) {
    for (Iterator<String> fields = node.fieldNames(); fields.hasNext(); ) {
      String field = fields.next();
      if (!known.contains(field)) {
        problems.add(FILE + ": " + where + field + ": unknown field (expected one of: "
            + String.join(", ", known.stream().sorted().toList()) + ")");
      }
    }
  }

  private static @Nullable String text(JsonNode node, String field, String where, List<String> problems,
      boolean required) {
    JsonNode value = node.path(field);
    if (value.isMissingNode() || value.isNull()) {
      if (required) {
        problems.add(FILE + ": " + where + field + ": missing (expected: a string)");
      }
      return null;
    }
    if (!value.isValueNode() || value.asText().isEmpty()) {
      problems.add(FILE + ": " + where + field + ": is " + value + " (expected: a non-empty string)");
      return null;
    }
    return value.asText();
  }

  private static long whole(JsonNode node, String field, String where, List<String> problems, long absent,
      long min, long max) {
    JsonNode value = node.path(field);
    if (value.isMissingNode()) {
      if (absent < 0) {
        problems.add(FILE + ": " + where + field + ": missing (expected: an integer from " + min + " to " + max + ")");
      }
      return absent;
    }
    if (!value.isIntegralNumber() || value.longValue() < min || value.longValue() > max) {
      problems.add(FILE + ": " + where + field + ": is " + value + " (expected: an integer from " + min + " to " + max
          + ")");
      return -1;
    }
    return value.longValue();
  }
}
