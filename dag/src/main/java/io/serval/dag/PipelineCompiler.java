package io.serval.dag;

import io.serval.core.SchedulingClock;
import io.serval.core.ServalException;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.core.TensorValues;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Turns a {@link PipelineDefinition} into a {@link Pipeline}, or refuses it with every problem found, each
 * naming the file, the node and the field: unknown operators and models, missing, duplicate and unconnected
 * names, cycles, and datatypes and shapes that do not fit along an edge.
 *
 * <pre>{@code
 * PipelineCompiler compiler = PipelineCompiler.withInstalledOperators(inferenceService::resolve);
 * Pipeline pipeline = compiler.compile(PipelineDefinition.read("digits", dir.resolve("pipeline.yaml")));
 * }</pre>
 */
public final class PipelineCompiler {
  private final Map<String, OperatorFactory> factories = new TreeMap<>();
  private final ServableResolver servables;
  private final SchedulingClock clock;

  /**
   * A compiler with {@code factories}, whose pipelines time deadlines and node timeouts on {@code clock}; two
   * factories of one type are refused.
   */
  public PipelineCompiler(Collection<OperatorFactory> factories, ServableResolver servables, SchedulingClock clock) {
    for (OperatorFactory factory : factories) {
      OperatorFactory other = this.factories.put(factory.type(), factory);
      if (other != null) {
        throw new IllegalArgumentException("two operator factories of type '" + factory.type() + "': "
            + other.getClass().getName() + " and " + factory.getClass().getName());
      }
    }
    this.servables = servables;
    this.clock = clock;
  }

  /** A compiler with every {@link OperatorFactory} on the classpath, built-in and user ones. */
  public static PipelineCompiler withInstalledOperators(ServableResolver servables) {
    List<OperatorFactory> found = new ArrayList<>();
    ServiceLoader.load(OperatorFactory.class).forEach(found::add);
    return new PipelineCompiler(found, servables, SchedulingClock.system());
  }

  /** The operator types it knows. */
  public Set<String> operatorTypes() {
    return factories.keySet();
  }

  /** Checks and builds {@code definition}. */
  public Pipeline compile(PipelineDefinition definition) throws InvalidPipelineException {
    Compilation compilation = new Compilation(definition);
    compilation.run();
    if (!compilation.problems.isEmpty()) {
      throw new InvalidPipelineException(compilation.problems);
    }
    return compilation.pipeline();
  }

  /** One compilation's state: its problems, and what each node has become. */
  private final class Compilation {
    final PipelineDefinition definition;
    final List<String> problems = new ArrayList<>();
    final Map<String, TensorSpec> inputs = new LinkedHashMap<>();
    final Map<String, PipelineDefinition.Node> nodes = new LinkedHashMap<>();
    final Map<String, Operator> operators = new HashMap<>();
    final Map<String, List<TensorSpec>> outputs = new HashMap<>();
    /** The outputs a node takes when it fails, for those with a {@code fallback}. */
    final Map<String, List<Tensor>> fallbacks = new HashMap<>();
    final List<String> order = new ArrayList<>();
    final Set<String> read = new HashSet<>();
    final List<TensorSpec> pipelineOutputs = new ArrayList<>();
    /** The switch case each gated node runs in. */
    final Map<String, Pipeline.Gate> gates = new HashMap<>();
    /**
     * When each node runs: for each switch that decides it, the cases in which it does (no entry: it always
     * runs, once the request gets that far).
     */
    final Map<String, Map<String, Set<String>>> runsWhen = new HashMap<>();

    Compilation(PipelineDefinition definition) {
      this.definition = definition;
    }

    void run() {
      names();
      for (PipelineDefinition.Node node : nodes.values()) {
        operator(node);
      }
      for (PipelineDefinition.Node node : nodes.values()) {
        wiring(node);
      }
      for (PipelineDefinition.Node node : nodes.values()) {
        cases(node);
      }
      if (!problems.isEmpty()) {
        return;
      }
      order();
      if (!problems.isEmpty()) {
        return;
      }
      for (String node : order) {
        types(nodes.get(node));
        skippable(node);
      }
      pipelineOutputs();
      unconnected();
    }

    /** A switch's cases: each listed node runs only in its case. */
    private void cases(PipelineDefinition.Node node) {
      if (!(operators.get(node.name()) instanceof SwitchOperator)) {
        return;
      }
      ((SwitchOperator) operators.get(node.name())).cases().forEach((key, gated) -> {
        for (String name : gated) {
          String where = at(node.name()) + "params.cases." + key + ": ";
          Pipeline.Gate other = gates.get(name);
          if (!nodes.containsKey(name) || name.equals(node.name())) {
            problems.add(where + "no node '" + name + "' it could run (nodes: "
                + String.join(", ", nodes.keySet().stream().filter(n -> !n.equals(node.name())).toList()) + ")");
          } else if (other != null) {
            problems.add(where + "node '" + name + "' is in case '" + other.key() + "' of switch '" + other.node()
                + "' already (a node runs in one case)");
          } else {
            gates.put(name, new Pipeline.Gate(node.name(), key));
            read.add(node.name());
          }
        }
      });
    }

    /**
     * When a node runs: all of its sources' conditions (and its own case, if it is in one); for a 'first' node,
     * any of its inputs' conditions, which it can state exactly when they differ in one switch's cases only (the
     * branches of that switch meeting again); otherwise it keeps the first input's condition, the cautious answer.
     */
    private void skippable(String node) {
      List<Map<String, Set<String>>> sources = new ArrayList<>();
      for (String source : nodes.get(node).inputs().values()) {
        int dot = source.indexOf('.');
        sources.add(dot < 0 ? Map.of() : runsWhen.getOrDefault(source.substring(0, dot), Map.of()));
      }
      Map<String, Set<String>> condition = operators.get(node) instanceof FirstOperator
          ? anyOf(sources) : allOf(sources);
      Pipeline.Gate gate = gates.get(node);
      if (gate != null) {
        condition = allOf(List.of(condition, Map.of(gate.node(), Set.of(gate.key()))));
      }
      if (!condition.isEmpty()) {
        runsWhen.put(node, condition);
      }
    }

    private Map<String, Set<String>> allOf(List<Map<String, Set<String>>> conditions) {
      Map<String, Set<String>> all = new TreeMap<>();
      for (Map<String, Set<String>> condition : conditions) {
        condition.forEach((switchNode, cases) -> all.merge(switchNode, cases, (a, b) -> {
          Set<String> both = new TreeSet<>(a);
          both.retainAll(b);
          return both;
        }));
      }
      return all;
    }

    private Map<String, Set<String>> anyOf(List<Map<String, Set<String>>> conditions) {
      Map<String, Set<String>> first = conditions.get(0);
      String differing = null;
      Set<String> union = new TreeSet<>();
      for (Map<String, Set<String>> condition : conditions) {
        if (!condition.keySet().equals(first.keySet())) {
          return first;
        }
        for (String switchNode : condition.keySet()) {
          if (!condition.get(switchNode).equals(first.get(switchNode))) {
            if (differing != null && !differing.equals(switchNode)) {
              return first;
            }
            differing = switchNode;
          }
        }
      }
      if (differing == null) {
        return first;
      }
      for (Map<String, Set<String>> condition : conditions) {
        union.addAll(condition.get(differing));
      }
      Map<String, Set<String>> any = new TreeMap<>(first);
      if (union.containsAll(((SwitchOperator) operators.get(differing)).cases().keySet())) {
        any.remove(differing);
      } else {
        any.put(differing, union);
      }
      return any;
    }

    private String at(String node) {
      return definition.file() + ": node '" + node + "': ";
    }

    private void names() {
      for (TensorSpec input : definition.inputs()) {
        if (inputs.putIfAbsent(input.name(), input) != null) {
          problems.add(definition.file() + ": inputs: '" + input.name() + "' is declared twice");
        }
      }
      for (PipelineDefinition.Node node : definition.nodes()) {
        if (node.name().contains(".")) {
          problems.add(at(node.name()) + "name: contains '.' (node outputs are named node.output)");
        } else if (inputs.containsKey(node.name())) {
          problems.add(at(node.name()) + "name: a pipeline input has this name too");
        } else if (nodes.putIfAbsent(node.name(), node) != null) {
          problems.add(at(node.name()) + "name: two nodes have this name");
        }
      }
      Set<String> outputNames = new HashSet<>();
      for (PipelineDefinition.Output output : definition.outputs()) {
        if (!outputNames.add(output.name())) {
          problems.add(definition.file() + ": outputs: '" + output.name() + "' is declared twice");
        }
      }
    }

    private void operator(PipelineDefinition.Node node) {
      OperatorFactory factory = factories.get(node.op());
      if (factory == null) {
        problems.add(at(node.name()) + "op: '" + node.op() + "' is not an operator (expected one of: "
            + String.join(", ", factories.keySet()) + ")");
        return;
      }
      try {
        operators.put(node.name(), factory.create(node.params(), servables));
      } catch (IllegalArgumentException | ServalException e) {
        problems.add(at(node.name()) + e.getMessage());
      } catch (RuntimeException | LinkageError e) {
        // A user operator's bug, or a jar built against another Serval: this pipeline is refused, the rest serve.
        problems.add(at(node.name()) + "op: operator '" + node.op() + "' (" + factory.getClass().getName()
            + ") failed to start: " + e);
      }
    }

    private void wiring(PipelineDefinition.Node node) {
      Operator operator = operators.get(node.name());
      if (operator == null) {
        return;
      }
      for (String wired : node.inputs().keySet()) {
        if (!operator.inputNames().contains(wired)) {
          problems.add(at(node.name()) + "inputs." + wired + ": operator '" + node.op() + "' has no input '"
              + wired + "' (expected: " + String.join(", ", operator.inputNames()) + ")");
        }
      }
      for (String input : operator.inputNames()) {
        String source = node.inputs().get(input);
        if (source == null) {
          problems.add(at(node.name()) + "inputs." + input + ": missing (operator '" + node.op() + "' takes: "
              + String.join(", ", operator.inputNames()) + ")");
          continue;
        }
        int dot = source.indexOf('.');
        if (dot < 0 && !inputs.containsKey(source)) {
          problems.add(at(node.name()) + "inputs." + input + ": '" + source + "' is neither a pipeline input nor"
              + " node.output (pipeline inputs: " + String.join(", ", inputs.keySet()) + ")");
        } else if (dot >= 0 && !nodes.containsKey(source.substring(0, dot))) {
          problems.add(at(node.name()) + "inputs." + input + ": '" + source + "': no node '"
              + source.substring(0, dot) + "' (nodes: " + String.join(", ", nodes.keySet()) + ")");
        }
        read.add(dot < 0 ? source : source.substring(0, dot));
      }
    }

    /** Orders the nodes so every node comes after those it reads; reports a cycle as its path. */
    private void order() {
      Map<String, Integer> state = new HashMap<>();
      for (String node : nodes.keySet()) {
        visit(node, state, new ArrayList<>());
      }
    }

    private void visit(String node, Map<String, Integer> state, List<String> path) {
      Integer seen = state.get(node);
      if (seen != null && seen == 2) {
        return;
      }
      path.add(node);
      if (seen != null) {
        List<String> cycle = path.subList(path.indexOf(node), path.size());
        problems.add(definition.file() + ": node '" + node + "': inputs: a cycle: "
            + String.join(" -> ", cycle.stream().map(name -> "'" + name + "'").toList()));
        path.remove(path.size() - 1);
        return;
      }
      state.put(node, 1);
      Pipeline.Gate gate = gates.get(node);
      if (gate != null) {
        visit(gate.node(), state, path);
      }
      for (String source : nodes.get(node).inputs().values()) {
        int dot = source.indexOf('.');
        if (dot >= 0) {
          visit(source.substring(0, dot), state, path);
        }
      }
      state.put(node, 2);
      order.add(node);
      path.remove(path.size() - 1);
    }

    private void types(PipelineDefinition.Node node) {
      Operator operator = operators.get(node.name());
      Map<String, TensorSpec> given = new LinkedHashMap<>();
      for (String input : operator.inputNames()) {
        TensorSpec spec = source(node.inputs().get(input), at(node.name()) + "inputs." + input + ": ");
        if (spec == null) {
          return;
        }
        given.put(input, spec);
      }
      try {
        outputs.put(node.name(), List.copyOf(operator.outputs(given)));
      } catch (IllegalArgumentException e) {
        problems.add(at(node.name()) + e.getMessage());
        return;
      } catch (RuntimeException | LinkageError e) {
        problems.add(at(node.name()) + "op: operator '" + node.op() + "' failed to state its outputs: " + e);
        return;
      }
      fallback(node);
    }

    /** A node's fallback: one value for each of its outputs, of that output's datatype and shape. */
    private void fallback(PipelineDefinition.Node node) {
      if (node.fallback().isEmpty()) {
        return;
      }
      List<TensorSpec> specs = outputs.get(node.name());
      List<String> names = specs.stream().map(TensorSpec::name).toList();
      for (String name : node.fallback().keySet()) {
        if (!names.contains(name)) {
          problems.add(at(node.name()) + "fallback." + name + ": operator '" + node.op() + "' has no output '" + name
              + "' (expected: " + String.join(", ", names) + ")");
        }
      }
      List<Tensor> values = new ArrayList<>();
      for (TensorSpec spec : specs) {
        Object value = node.fallback().get(spec.name());
        if (value == null) {
          problems.add(at(node.name()) + "fallback." + spec.name() + ": missing (a fallback gives every output of"
              + " the node: " + String.join(", ", names) + ")");
          continue;
        }
        try {
          values.add(TensorValues.of(spec.name(), spec.dataType(), spec.shape(), value));
        } catch (IllegalArgumentException e) {
          problems.add(at(node.name()) + "fallback." + spec.name() + ": " + e.getMessage());
        }
      }
      if (values.size() == specs.size()) {
        fallbacks.put(node.name(), List.copyOf(values));
      }
    }

    /** The spec of a source, or null (with a problem, unless its node already failed) when it has none. */
    private @Nullable TensorSpec source(String source, String where) {
      int dot = source.indexOf('.');
      if (dot < 0) {
        return inputs.get(source);
      }
      List<TensorSpec> produced = outputs.get(source.substring(0, dot));
      if (produced == null) {
        return null;
      }
      String name = source.substring(dot + 1);
      for (TensorSpec spec : produced) {
        if (spec.name().equals(name)) {
          return spec;
        }
      }
      problems.add(where + "'" + source + "': node '" + source.substring(0, dot) + "' has no output '" + name
          + "' (expected one of: " + String.join(", ", produced.stream().map(TensorSpec::name).toList()) + ")");
      return null;
    }

    private void pipelineOutputs() {
      for (int i = 0; i < definition.outputs().size(); i++) {
        PipelineDefinition.Output output = definition.outputs().get(i);
        String where = definition.file() + ": outputs[" + i + "] '" + output.name() + "': from: ";
        int dot = output.from().indexOf('.');
        if (dot < 0 || !nodes.containsKey(output.from().substring(0, dot))) {
          problems.add(where + "'" + output.from() + "' is not node.output (nodes: "
              + String.join(", ", nodes.keySet()) + ")");
          continue;
        }
        read.add(output.from().substring(0, dot));
        Map<String, Set<String>> condition = runsWhen.getOrDefault(output.from().substring(0, dot), Map.of());
        if (!condition.isEmpty()) {
          String skipper = condition.keySet().iterator().next();
          problems.add(where + "'" + output.from() + "' is skipped when switch '" + skipper + "' picks another"
              + " case (join the branches with a 'first' node)");
          continue;
        }
        TensorSpec spec = source(output.from(), where);
        if (spec != null) {
          pipelineOutputs.add(TensorSpec.of(output.name(), spec.dataType(), spec.shape()));
        }
      }
      if (definition.outputs().isEmpty()) {
        problems.add(definition.file() + ": outputs: none (expected: at least one)");
      }
    }

    private void unconnected() {
      for (String input : inputs.keySet()) {
        if (!read.contains(input)) {
          problems.add(definition.file() + ": inputs: '" + input + "': no node reads it");
        }
      }
      for (String node : nodes.keySet()) {
        if (!read.contains(node)) {
          problems.add(at(node) + "none of its outputs is used (by a node or the pipeline's outputs)");
        }
      }
    }

    Pipeline pipeline() {
      List<Pipeline.Step> steps = new ArrayList<>();
      for (String name : order) {
        PipelineDefinition.Node node = nodes.get(name);
        Operator operator = operators.get(name);
        List<String> sources = new ArrayList<>();
        operator.inputNames().forEach(input -> sources.add(node.inputs().get(input)));
        steps.add(new Pipeline.Step(name, operator, sources, gates.get(name), operator instanceof FirstOperator,
            outputs.get(name).stream().map(TensorSpec::name).toList(), node.timeoutMillis(), node.retries(),
            fallbacks.get(name)));
      }
      List<String> outputSources = definition.outputs().stream().map(PipelineDefinition.Output::from).toList();
      return new Pipeline(definition.name(), List.copyOf(inputs.values()), pipelineOutputs, steps, outputSources,
          clock, definition.maxInflight(), NodeObserver.NONE);
    }
  }
}
