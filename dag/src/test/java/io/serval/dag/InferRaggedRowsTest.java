package io.serval.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** An infer node whose rows are padded to the longest: each row cut to its own length, joined back in order. */
class InferRaggedRowsTest {
  private final ExecutorService executor = Executors.newFixedThreadPool(2);
  private final List<MemoryScope> scopes = new ArrayList<>();

  @AfterEach
  void close() {
    executor.shutdownNow();
    scopes.forEach(MemoryScope::release);
  }

  private static String pipeline(String params) {
    return "inputs: [{name: x, datatype: FP32, dims: [-1, -1]}, {name: n, datatype: INT64, dims: [-1]}]\n"
        + "outputs: [{name: y, from: model.y}]\n"
        + "nodes: [{name: model, op: infer, inputs: {x: x, lengths: n}, params: " + params + "}]\n";
  }

  private Pipeline compile(DoublingModel model, String params) throws InvalidPipelineException {
    return PipelineCompiler.withInstalledOperators(model.resolver())
        .compile(PipelineDefinition.parse("p", "pipeline.yaml", pipeline(params)));
  }

  private Tensor run(Pipeline pipeline, float[][] rows, long... lengths) throws Exception {
    int width = rows[0].length;
    float[] x = new float[rows.length * width];
    for (int r = 0; r < rows.length; r++) {
      System.arraycopy(rows[r], 0, x, r * width, width);
    }
    ByteBuffer n = ByteBuffer.allocateDirect(lengths.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (long length : lengths) {
      n.putLong(length);
    }
    MemoryScope memory = MemoryScope.open();
    scopes.add(memory);
    InferenceRequest request = new InferenceRequest("r", Map.of(), List.of(
        Tensor.ofFloats("x", new long[] {rows.length, width}, x),
        Tensor.of("n", DataType.INT64, new long[] {lengths.length}, n.flip())), null, true, 0, memory);
    return pipeline.infer(request, executor).get(10, TimeUnit.SECONDS).outputs().get(0);
  }

  @Test
  void eachRowRunsAtItsOwnLengthAndTheOutputsJoinInOrderPaddedWithZero() throws Exception {
    DoublingModel model = new DoublingModel(-1);
    Pipeline pipeline = compile(model, "{model: double, ragged: x}");

    Tensor y = run(pipeline, new float[][] {{1, 2, 3, 0}, {4, 0, 0, 0}, {5, 6, 7, 0}, {8, 9, 0, 0}}, 3, 1, 3, 2);

    // Rows of lengths 3, 1 and 2 went apart (rows 0 and 2 together), none at the padded 4; the longest is 3.
    assertThat(model.shapes).extracting(shape -> List.of(shape[0], shape[1]))
        .containsExactlyInAnyOrder(List.of(2L, 3L), List.of(1L, 1L), List.of(1L, 2L));
    assertThat(y.shape()).containsExactly(4, 3);
    assertThat(TestOperators.floats(y)).containsExactly(2, 4, 6, 8, 0, 0, 10, 12, 14, 16, 18, 0);
  }

  @Test
  void minLengthKeepsShortRowsTogetherAndOneLengthForAllIsOneCallUncut() throws Exception {
    DoublingModel model = new DoublingModel(-1);
    Pipeline pipeline = compile(model, "{model: double, ragged: x, ragged_axis: 1, min_length: 2}");

    Tensor y = run(pipeline, new float[][] {{1, 0, 0}, {2, 3, 0}, {4, 5, 6}}, 1, 2, 3);
    assertThat(model.shapes).extracting(shape -> List.of(shape[0], shape[1]))
        .containsExactlyInAnyOrder(List.of(2L, 2L), List.of(1L, 3L));
    assertThat(TestOperators.floats(y)).containsExactly(2, 0, 0, 4, 6, 0, 8, 10, 12);

    model.shapes.clear();
    run(pipeline, new float[][] {{1, 2}, {3, 4}}, 2, 1);
    assertThat(model.shapes).extracting(shape -> List.of(shape[0], shape[1])).containsExactly(List.of(2L, 2L));
  }

  @Test
  void aLengthOutsideTheRowIsRefusedNamingTheRow() throws Exception {
    Pipeline pipeline = compile(new DoublingModel(-1), "{model: double, ragged: x}");

    Throwable refused = catchThrowable(() -> run(pipeline, new float[][] {{1, 2}, {3, 4}}, 2, 5));

    assertThat(refused).isInstanceOf(ExecutionException.class).rootCause().isInstanceOf(InvalidInputException.class)
        .hasMessage("input 'lengths': row 1 is 5 long (expected: 1 to 2, the padded size of axis 1 of"
            + " input 'x')");
  }

  @Test
  void aRaggedAxisTheModelFixesOrAMissingInputIsRefusedAtLoad() {
    Throwable fixed = catchThrowable(() -> compile(new DoublingModel(4), "{model: double, ragged: x}"));
    assertThat(fixed).isInstanceOf(InvalidPipelineException.class)
        .hasMessageContaining("params.ragged_axis: axis 1 of input 'x' is 4");

    Throwable unknown = catchThrowable(() -> compile(new DoublingModel(-1), "{model: double, ragged: z}"));
    assertThat(unknown).isInstanceOf(InvalidPipelineException.class)
        .hasMessageContaining("params.ragged: 'z' is not an input of model 'double' version 1 (expected one of: x)");

    Throwable alone = catchThrowable(() -> compile(new DoublingModel(-1), "{model: double, min_length: 2}"));
    assertThat(alone).isInstanceOf(InvalidPipelineException.class).hasMessageContaining("params.ragged: missing");
  }
}
