package io.serval.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.serval.core.SchedulingClock;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Every problem a pipeline definition can have is refused at load, naming the file, the node and the field. */
class PipelineCompilerTest {
  private final DoublingModel model = new DoublingModel();
  private final PipelineCompiler compiler = compiler(model);

  static PipelineCompiler compiler(DoublingModel model) {
    List<OperatorFactory> factories = new ArrayList<>();
    ServiceLoader.load(OperatorFactory.class).forEach(factories::add);
    factories.add(TestOperators.plus());
    factories.add(TestOperators.count(new AtomicInteger()));
    return new PipelineCompiler(factories, model.resolver(), SchedulingClock.system());
  }

  private List<String> problems(String yaml) {
    InvalidPipelineException refused = catchThrowableOfType(InvalidPipelineException.class,
        () -> compiler.compile(PipelineDefinition.parse("p", "pipeline.yaml", yaml)));
    assertThat(refused).as("refused").isNotNull();
    return refused.problems();
  }

  private static final String INPUTS = "inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]\n";

  @Test
  void aValidPipelineCompilesWithItsSignature() throws Exception {
    Pipeline pipeline = compiler.compile(PipelineDefinition.parse("p", "pipeline.yaml", INPUTS
        + "outputs: [{name: probabilities, from: scores.y}]\n"
        + "nodes:\n"
        + "  - {name: model, op: infer, inputs: {x: x}, params: {model: double}}\n"
        + "  - {name: scores, op: softmax, inputs: {x: model.y}}\n"));

    assertThat(pipeline.signature().toString()).isEqualTo("inputs [x:FP32[-1,4]] -> outputs [probabilities:FP32[-1,4]]");
    assertThat(pipeline.label()).isEqualTo("pipeline 'p'");
  }

  @Test
  void reportsTheFormOfTheFileFieldByField() {
    assertThat(problems("inputs: [{name: x, datatype: FLOAT7, dims: [a]}]\n"
        + "outputs: [{name: y}]\n"
        + "nodes:\n"
        + "  - {name: n, op: softmax, inputs: [x], extra: 1, params: {k: ~}, timeout_ms: 0, retry: 11}\n"
        + "  - {op: softmax}\n"
        + "unknown: 1\n"
        + "max_inflight: 0\n"))
        .containsExactly(
            "pipeline.yaml: unknown: unknown field (expected one of: inputs, max_inflight, nodes, outputs)",
            "pipeline.yaml: inputs[0]: datatype: 'FLOAT7' is not a datatype (expected e.g. FP32, INT64, BYTES)",
            "pipeline.yaml: inputs[0]: dims: is [\"a\"] (expected: a list of dimensions, -1 for any size)",
            "pipeline.yaml: outputs[0]: from: missing (expected: a non-empty string)",
            "pipeline.yaml: node 'n': extra: unknown field (expected one of: fallback, inputs, name, op, params,"
                + " retry, timeout_ms)",
            "pipeline.yaml: node 'n': inputs: expected a mapping of operator input -> source (a pipeline input or"
                + " node.output)",
            "pipeline.yaml: node 'n': params.k: is null (expected: a value, or no such line)",
            "pipeline.yaml: node 'n': timeout_ms: is 0 (expected: milliseconds > 0)",
            "pipeline.yaml: node 'n': retry: is 11 (expected: an integer from 0 to 10)",
            "pipeline.yaml: nodes[1]: name: missing (expected: a non-empty string)",
            "pipeline.yaml: max_inflight: is 0 (expected: an integer from 1 to 1000000)");
    assertThat(problems("nodes: [\n")).singleElement().asString().startsWith("pipeline.yaml: not valid YAML: ");
  }

  @Test
  void refusesFallbacksThatDoNotFitTheNodesOutputs() {
    assertThat(problems("inputs: [{name: x, datatype: FP32, dims: [2]}]\n"
        + "outputs: [{name: a, from: shape.y}, {name: b, from: kind.y}, {name: c, from: short.y},"
        + " {name: d, from: none.y}]\n"
        + "nodes:\n"
        + "  - {name: shape, op: count, inputs: {x: x}, fallback: {y: [1, 2, 3]}}\n"
        + "  - {name: kind, op: count, inputs: {x: x}, fallback: {y: [1, b]}, retry: 1}\n"
        + "  - {name: short, op: count, inputs: {x: x}, fallback: {z: 1}}\n"
        + "  - {name: none, op: count, inputs: {x: x}, fallback: 0}\n"))
        .containsExactly(
            "pipeline.yaml: node 'none': fallback: is 0 (expected: a mapping of output -> value)");
    assertThat(problems("inputs: [{name: x, datatype: FP32, dims: [2]}]\n"
        + "outputs: [{name: a, from: shape.y}, {name: b, from: kind.y}, {name: c, from: short.y}]\n"
        + "nodes:\n"
        + "  - {name: shape, op: count, inputs: {x: x}, fallback: {y: [1, 2, 3]}}\n"
        + "  - {name: kind, op: count, inputs: {x: x}, fallback: {y: [1, b]}, retry: 1}\n"
        + "  - {name: short, op: count, inputs: {x: x}, fallback: {z: 1}}\n"))
        .containsExactly(
            "pipeline.yaml: node 'shape': fallback.y: has shape [3] (expected: [2])",
            "pipeline.yaml: node 'kind': fallback.y: element 1 is \"b\" (expected: a finite number)",
            "pipeline.yaml: node 'short': fallback.z: operator 'count' has no output 'z' (expected: y)",
            "pipeline.yaml: node 'short': fallback.y: missing (a fallback gives every output of the node: y)");
  }

  @Test
  void refusesUnknownOperatorsModelsAndParameters() {
    assertThat(compiler.operatorTypes()).contains("infer", "switch", "first", "softmax", "image.decode", "plus");
    assertThat(problems(INPUTS
        + "outputs: [{name: y, from: b.y}]\n"
        + "nodes:\n"
        + "  - {name: a, op: softmx, inputs: {x: x}}\n"
        + "  - {name: b, op: infer, inputs: {x: x}, params: {model: triple}}\n"
        + "  - {name: c, op: infer, inputs: {x: x}, params: {model: double, batch: 2}}\n"))
        .containsExactly(
            "pipeline.yaml: node 'a': op: 'softmx' is not an operator (expected one of: "
                + String.join(", ", compiler.operatorTypes()) + ")",
            "pipeline.yaml: node 'b': params.model: model 'triple' is not in the repository",
            "pipeline.yaml: node 'c': params.batch: unknown parameter (expected one of: model, version, ragged,"
                + " ragged_axis, min_length)");
  }

  @Test
  void refusesDuplicateMissingAndUnknownNames() {
    assertThat(problems(INPUTS
        + "outputs: [{name: y, from: a.y}, {name: y, from: a.y}]\n"
        + "nodes:\n"
        + "  - {name: a, op: softmax, inputs: {x: x}}\n"
        + "  - {name: a, op: softmax, inputs: {x: x}}\n"
        + "  - {name: x, op: softmax, inputs: {x: x}}\n"
        + "  - {name: b.c, op: softmax, inputs: {x: x}}\n"
        + "  - {name: d, op: plus, inputs: {a: x, c: x}}\n"
        + "  - {name: e, op: softmax, inputs: {x: q}}\n"
        + "  - {name: f, op: softmax, inputs: {x: g.y}}\n"))
        .containsExactly(
            "pipeline.yaml: node 'a': name: two nodes have this name",
            "pipeline.yaml: node 'x': name: a pipeline input has this name too",
            "pipeline.yaml: node 'b.c': name: contains '.' (node outputs are named node.output)",
            "pipeline.yaml: outputs: 'y' is declared twice",
            "pipeline.yaml: node 'd': inputs.c: operator 'plus' has no input 'c' (expected: a, b)",
            "pipeline.yaml: node 'd': inputs.b: missing (operator 'plus' takes: a, b)",
            "pipeline.yaml: node 'e': inputs.x: 'q' is neither a pipeline input nor node.output (pipeline inputs:"
                + " x)",
            "pipeline.yaml: node 'f': inputs.x: 'g.y': no node 'g' (nodes: a, d, e, f)");
  }

  @Test
  void refusesACycleNamingItsPath() {
    assertThat(problems(INPUTS
        + "outputs: [{name: y, from: c.y}]\n"
        + "nodes:\n"
        + "  - {name: a, op: plus, inputs: {a: x, b: c.y}}\n"
        + "  - {name: b, op: softmax, inputs: {x: a.y}}\n"
        + "  - {name: c, op: softmax, inputs: {x: b.y}}\n"))
        .containsExactly("pipeline.yaml: node 'a': inputs: a cycle: 'a' -> 'c' -> 'b' -> 'a'");
  }

  @Test
  void refusesUnknownOutputsAndTypesThatDoNotFit() {
    assertThat(problems("inputs: [{name: x, datatype: INT64, dims: [-1, 4]}, {name: z, datatype: FP32, dims: [2, 3]}]\n"
        + "outputs: [{name: y, from: b.z}, {name: w, from: a}]\n"
        + "nodes:\n"
        + "  - {name: a, op: softmax, inputs: {x: x}}\n"
        + "  - {name: b, op: infer, inputs: {x: z}, params: {model: double}}\n"))
        .containsExactly(
            "pipeline.yaml: node 'a': inputs.x: INT64 of rank 2 (expected: FP32 of rank 1 or more)",
            "pipeline.yaml: node 'b': inputs.x: shape [2,3] (expected: [-1,4], as model 'double' version 1 takes;"
                + " -1 is any size)",
            "pipeline.yaml: outputs[1] 'w': from: 'a' is not node.output (nodes: a, b)",
            "pipeline.yaml: node 'a': none of its outputs is used (by a node or the pipeline's outputs)");
    assertThat(problems(INPUTS
        + "outputs: [{name: y, from: m.z}]\n"
        + "nodes:\n"
        + "  - {name: m, op: infer, inputs: {x: x}, params: {model: double}}\n"))
        .containsExactly("pipeline.yaml: outputs[0] 'y': from: 'm.z': node 'm' has no output 'z' (expected one of:"
            + " y)");
  }

  @Test
  void refusesSwitchCasesThatCannotWork() {
    String head = "inputs: [{name: x, datatype: FP32, dims: [4]}, {name: k, datatype: BYTES, dims: [1]}]\n";
    assertThat(problems(head
        + "outputs: [{name: y, from: a.y}]\n"
        + "nodes:\n"
        + "  - {name: s, op: switch, inputs: {value: k}, params: {cases: {one: [a, ghost], two: [a, s]}}}\n"
        + "  - {name: a, op: softmax, inputs: {x: x}}\n"))
        .containsExactly(
            "pipeline.yaml: node 's': params.cases.one: no node 'ghost' it could run (nodes: a)",
            "pipeline.yaml: node 's': params.cases.two: node 'a' is in case 'one' of switch 's' already (a node"
                + " runs in one case)",
            "pipeline.yaml: node 's': params.cases.two: no node 's' it could run (nodes: a)");
    assertThat(problems(head
        + "outputs: [{name: y, from: after.y}]\n"
        + "nodes:\n"
        + "  - {name: s, op: switch, inputs: {value: x}, params: {cases: {one: [a]}}}\n"
        + "  - {name: a, op: softmax, inputs: {x: x}}\n"
        + "  - {name: after, op: softmax, inputs: {x: a.y}}\n"
        + "  - {name: t, op: switch, inputs: {value: k}, params: {cases: {one: [b]}}}\n"
        + "  - {name: b, op: softmax, inputs: {x: x}}\n"
        + "  - {name: c, op: first, inputs: {a: b.y, b: b.y}}\n"))
        .containsExactly(
            "pipeline.yaml: node 's': inputs.value: FP32 (expected: BYTES, an integer type or BOOL)",
            "pipeline.yaml: outputs[0] 'y': from: 'after.y' is skipped when switch 's' picks another case (join the"
                + " branches with a 'first' node)",
            "pipeline.yaml: node 'c': none of its outputs is used (by a node or the pipeline's outputs)");
  }

  @Test
  void refusesInputsNobodyReadsAndNodesNobodyUses() {
    assertThat(problems("inputs: [{name: x, datatype: FP32, dims: [4]}, {name: unused, datatype: FP32, dims: [4]}]\n"
        + "outputs: [{name: y, from: a.y}]\n"
        + "nodes:\n"
        + "  - {name: a, op: softmax, inputs: {x: x}}\n"
        + "  - {name: dead, op: softmax, inputs: {x: x}}\n"))
        .containsExactly(
            "pipeline.yaml: inputs: 'unused': no node reads it",
            "pipeline.yaml: node 'dead': none of its outputs is used (by a node or the pipeline's outputs)");
  }
}
