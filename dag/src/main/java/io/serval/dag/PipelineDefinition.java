package io.serval.dag;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.serval.core.DataType;
import io.serval.core.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A pipeline as its {@code pipeline.yaml} says it, before its operators exist: named inputs, the nodes with
 * their operator type, wiring and parameters, and which node outputs answer the request.
 *
 * <pre>{@code
 * inputs:  [{name: x, datatype: FP32, dims: [4]}]
 * outputs: [{name: probabilities, from: scores.y}]
 * nodes:
 *   - {name: model,  op: infer,   inputs: {x: x},       params: {model: affine}}
 *   - {name: scores, op: softmax, inputs: {x: model.y}}
 * }</pre>
 *
 * A source is a pipeline input's name, or {@code node.output}.
 */
public final class PipelineDefinition {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> TOP = Set.of("inputs", "outputs", "nodes", "max_inflight");
  /** Requests one pipeline runs at once unless its {@code max_inflight} says otherwise. */
  public static final int DEFAULT_MAX_INFLIGHT = 256;
  private static final Set<String> NODE = Set.of("name", "op", "inputs", "params", "timeout_ms", "retry",
      "fallback");

  /**
   * A node: its name, operator type, inputs (operator input name -> source), parameters, how long one run may
   * take ({@code timeout_ms}; 0: only the request's deadline bounds it), and how many times a run that failed
   * for a reason that may pass (unavailable, overloaded, timed out, internal) is tried again ({@code retry}),
   * and the values its outputs take when it fails all the same ({@code fallback}: output name -> value, as plain
   * values; empty for none).
   */
  public record Node(String name, String op, Map<String, String> inputs, NodeParameters params, long timeoutMillis,
      int retries, Map<String, Object> fallback) {}

  /** A pipeline output: its name and the node output it is. */
  public record Output(String name, String from) {}

  private final String name;
  private final String file;
  private final List<TensorSpec> inputs;
  private final List<Output> outputs;
  private final List<Node> nodes;

  private final int maxInflight;

  private PipelineDefinition(String name, String file, List<TensorSpec> inputs, List<Output> outputs,
      List<Node> nodes, int maxInflight) {
    this.maxInflight = maxInflight;
    this.name = name;
    this.file = file;
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.nodes = List.copyOf(nodes);
  }

  /** Reads {@code file} as pipeline {@code name}; every problem of its form is reported at once. */
  public static PipelineDefinition read(String name, Path file) throws InvalidPipelineException {
    String label = file.getFileName().toString();
    try {
      return parse(name, file.toAbsolutePath().getParent(), label, Files.readString(file));
    } catch (IOException e) {
      throw new InvalidPipelineException(List.of(label + ": cannot be read: " + e.getMessage()));
    }
  }

  /**
   * Parses {@code yaml} as pipeline {@code name}, naming {@code file} in messages; files its nodes' parameters
   * name are found relative to the working directory.
   */
  public static PipelineDefinition parse(String name, String file, String yaml) throws InvalidPipelineException {
    return parse(name, Path.of(""), file, yaml);
  }

  /**
   * Parses {@code yaml} as pipeline {@code name} from {@code folder}, naming {@code file} in messages; files its
   * nodes' parameters name are found relative to {@code folder}.
   */
  public static PipelineDefinition parse(String name, Path folder, String file, String yaml)
      throws InvalidPipelineException {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new InvalidPipelineException(List.of(file + ": not valid YAML: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")")));
    }
    List<String> problems = new ArrayList<>();
    if (root == null || !root.isObject()) {
      throw new InvalidPipelineException(List.of(file + ": expected a mapping with inputs, outputs and nodes"));
    }
    unknownFields(root, TOP, file + ": ", problems);
    List<TensorSpec> inputs = new ArrayList<>();
    List<JsonNode> inputNodes = list(root, "inputs", file + ": ", problems);
    for (int i = 0; i < inputNodes.size(); i++) {
      JsonNode input = inputNodes.get(i);
      String where = file + ": inputs[" + i + "]: ";
      String inputName = text(input, "name", where, problems);
      String type = text(input, "datatype", where, problems);
      DataType dataType = type == null ? null : DataType.fromConfigName(type);
      if (type != null && dataType == null) {
        dataType = DataType.fromWireName(type);
      }
      if (type != null && dataType == null) {
        problems.add(where + "datatype: '" + type + "' is not a datatype (expected e.g. FP32, INT64, BYTES)");
      }
      long[] dims = dims(input, where, problems);
      if (inputName != null && dataType != null && dims != null) {
        inputs.add(TensorSpec.of(inputName, dataType, dims));
      }
    }
    List<Output> outputs = new ArrayList<>();
    List<JsonNode> outputNodes = list(root, "outputs", file + ": ", problems);
    for (int i = 0; i < outputNodes.size(); i++) {
      String where = file + ": outputs[" + i + "]: ";
      String outputName = text(outputNodes.get(i), "name", where, problems);
      String from = text(outputNodes.get(i), "from", where, problems);
      if (outputName != null && from != null) {
        outputs.add(new Output(outputName, from));
      }
    }
    List<Node> nodes = new ArrayList<>();
    List<JsonNode> nodeNodes = list(root, "nodes", file + ": ", problems);
    for (int i = 0; i < nodeNodes.size(); i++) {
      JsonNode node = nodeNodes.get(i);
      String where = file + ": " + (node.path("name").isTextual() ? "node '" + node.path("name").asText() + "'"
          : "nodes[" + i + "]") + ": ";
      unknownFields(node, NODE, where, problems);
      String nodeName = text(node, "name", where, problems);
      String op = text(node, "op", where, problems);
      Map<String, String> wiring = new LinkedHashMap<>();
      JsonNode wired = node.path("inputs");
      if (!wired.isMissingNode() && !wired.isObject()) {
        problems.add(where + "inputs: expected a mapping of operator input -> source (a pipeline input or"
            + " node.output)");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = wired.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        if (!entry.getValue().isTextual()) {
          problems.add(where + "inputs." + entry.getKey() + ": is " + entry.getValue() + " (expected: a pipeline"
              + " input or node.output)");
        } else {
          wiring.put(entry.getKey(), entry.getValue().asText());
        }
      }
      JsonNode params = node.path("params");
      if (!params.isMissingNode() && !params.isObject()) {
        problems.add(where + "params: expected a mapping");
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> param = it.next();
        if (param.getValue().isNull()) {
          problems.add(where + "params." + param.getKey() + ": is null (expected: a value, or no such line)");
        }
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> values = params.isObject() ? YAML.convertValue(params, Map.class) : Map.of();
      values.values().removeIf(Objects::isNull);
      JsonNode timeout = node.path("timeout_ms");
      if (!timeout.isMissingNode() && !(timeout.isIntegralNumber() && timeout.asLong() > 0)) {
        problems.add(where + "timeout_ms: is " + timeout + " (expected: milliseconds > 0)");
      }
      JsonNode retry = node.path("retry");
      if (!retry.isMissingNode() && !(retry.isIntegralNumber() && retry.asInt() >= 0 && retry.asInt() <= 10)) {
        problems.add(where + "retry: is " + retry + " (expected: an integer from 0 to 10)");
      }
      JsonNode fallback = node.path("fallback");
      if (!fallback.isMissingNode() && !(fallback.isObject() && fallback.size() > 0)) {
        problems.add(where + "fallback: is " + fallback + " (expected: a mapping of output -> value)");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> fallbackValues = fallback.isObject() ? YAML.convertValue(fallback, Map.class) : Map.of();
      if (nodeName != null && op != null) {
        nodes.add(new Node(nodeName, op, wiring, new NodeParameters(values, folder), Math.max(0, timeout.asLong(0)),
            Math.max(0, retry.asInt(0)), fallbackValues));
      }
    }
    JsonNode inflight = root.path("max_inflight");
    if (!inflight.isMissingNode() && !(inflight.isIntegralNumber() && inflight.asLong() >= 1
        && inflight.asLong() <= 1_000_000)) {
      problems.add(file + ": max_inflight: is " + inflight + " (expected: an integer from 1 to 1000000)");
    }
    if (!problems.isEmpty()) {
      throw new InvalidPipelineException(problems);
    }
    return new PipelineDefinition(name, file, inputs, outputs, nodes, inflight.asInt(DEFAULT_MAX_INFLIGHT));
  }

  private static void unknownFields(JsonNode node, Set<String> known, String where, List<String> problems) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!known.contains(field)) {
        problems.add(where + field + ": unknown field (expected one of: " + String.join(", ", known.stream().sorted()
            .toList()) + ")");
      }
    }
  }

  private static List<JsonNode> list(JsonNode parent, String field, String where, List<String> problems) {
    JsonNode node = parent.path(field);
    if (!node.isArray()) {
      problems.add(where + field + ": " + (node.isMissingNode() ? "missing" : "is " + node)
          + " (expected: a list)");
      return List.of();
    }
    List<JsonNode> elements = new ArrayList<>();
    for (JsonNode element : node) {
      if (!element.isObject()) {
        problems.add(where + field + "[" + elements.size() + "]: is " + element + " (expected: a mapping)");
      } else {
        elements.add(element);
      }
    }
    return elements;
  }

  private static @Nullable String text(JsonNode parent, String field, String where, List<String> problems) {
    JsonNode node = parent.path(field);
    if (!node.isTextual() || node.asText().isEmpty()) {
      problems.add(where + field + ": " + (node.isMissingNode() ? "missing" : "is " + node)
          + " (expected: a non-empty string)");
      return null;
    }
    return node.asText();
  }

  private static long @Nullable [] dims(JsonNode parent, String where, List<String> problems) {
    JsonNode node = parent.path("dims");
    boolean valid = node.isArray();
    for (JsonNode dim : node) {
      valid &= dim.canConvertToLong() && dim.isIntegralNumber() && dim.asLong() >= -1;
    }
    if (!valid) {
      problems.add(where + "dims: " + (node.isMissingNode() ? "missing" : "is " + node)
          + " (expected: a list of dimensions, -1 for any size)");
      return null;
    }
    long[] dims = new long[node.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = node.get(i).asLong();
    }
    return dims;
  }

  public String name() {
    return name;
  }

  /** The file name messages name. */
  public String file() {
    return file;
  }

  public List<TensorSpec> inputs() {
    return inputs;
  }

  public List<Output> outputs() {
    return outputs;
  }

  /** Requests it runs at once; past that, requests are refused as overload (429), not queued. */
  public int maxInflight() {
    return maxInflight;
  }

  public List<Node> nodes() {
    return nodes;
  }
}
