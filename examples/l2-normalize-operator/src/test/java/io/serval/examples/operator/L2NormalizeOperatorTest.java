package io.serval.examples.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import io.serval.dag.InvalidPipelineException;
import io.serval.dag.Pipeline;
import io.serval.dag.PipelineCompiler;
import io.serval.dag.PipelineDefinition;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The operator as a user would test theirs: in a pipeline, found by ServiceLoader like the built-in ones. */
class L2NormalizeOperatorTest {
  private final PipelineCompiler compiler = PipelineCompiler.withInstalledOperators((name, version) -> {
    throw new IllegalStateException("no models here");
  });

  @Test
  void normalisesEachRow() throws Exception {
    Pipeline pipeline = compiler.compile(PipelineDefinition.parse("embed", "pipeline.yaml", """
        inputs: [{name: v, datatype: FP32, dims: [2, 2]}]
        outputs: [{name: unit, from: norm.y}]
        nodes: [{name: norm, op: l2_normalize, inputs: {x: v}}]
        """));
    MemoryScope memory = MemoryScope.open();
    try {
      InferenceRequest request = new InferenceRequest("", Map.of(),
          List.of(Tensor.ofFloats("v", new long[] {2, 2}, new float[] {3, 4, 0, 0})), null, true, 0, memory);

      Tensor unit = pipeline.infer(request, Runnable::run).get(10, TimeUnit.SECONDS).outputs().get(0);

      FloatBuffer values = unit.floats();
      // (3, 4) has length 5; a row of zeros stays zeros.
      assertThat(new float[] {values.get(0), values.get(1), values.get(2), values.get(3)})
          .containsExactly(0.6f, 0.8f, 0f, 0f);
      assertThat(unit.dataType()).isEqualTo(DataType.FP32);
    } finally {
      memory.release();
    }
  }

  @Test
  void refusesWhatItCannotTakeAtLoadNamingTheNode() {
    assertThatThrownBy(() -> compile("INT64", "{}"))
        .isInstanceOf(InvalidPipelineException.class)
        .hasMessage("pipeline.yaml: node 'norm': inputs.x: INT64 of rank 1 (expected: FP32 of rank 1 or more)");
    assertThatThrownBy(() -> compile("FP32", "{epsilon: -1}"))
        .isInstanceOf(InvalidPipelineException.class)
        .hasMessage("pipeline.yaml: node 'norm': params.epsilon: is -1.0 (expected: a number > 0)");
  }

  private Pipeline compile(String datatype, String params) throws InvalidPipelineException {
    return compiler.compile(PipelineDefinition.parse("embed", "pipeline.yaml",
        "inputs: [{name: v, datatype: " + datatype + ", dims: [2]}]\n"
            + "outputs: [{name: unit, from: norm.y}]\n"
            + "nodes: [{name: norm, op: l2_normalize, inputs: {x: v}, params: " + params + "}]\n"));
  }
}
