package io.serval.dag.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.serval.core.DataType;
import io.serval.core.ErrorKind;
import io.serval.core.InferenceRequest;
import io.serval.core.MemoryScope;
import io.serval.core.ModelNotFoundException;
import io.serval.core.ServalException;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.InvalidPipelineException;
import io.serval.dag.Pipeline;
import io.serval.dag.PipelineCompiler;
import io.serval.dag.PipelineDefinition;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs one operator the way a pipeline does: a pipeline of one node {@code n}, compiled with the installed
 * operators (so ServiceLoader finds it), its input wired from a pipeline input of the same name and each output
 * served under its own name. Requests run on the calling thread.
 */
final class OperatorHarness {
  private OperatorHarness() {}

  /** The pipeline definition of one node. */
  static String yaml(String op, String params, String input, String datatype, String dims, String... outputs) {
    StringBuilder yaml = new StringBuilder("inputs: [{name: " + input + ", datatype: " + datatype + ", dims: "
        + dims + "}]\noutputs: [");
    for (int i = 0; i < outputs.length; i++) {
      yaml.append(i == 0 ? "" : ", ").append("{name: ").append(outputs[i]).append(", from: n.").append(outputs[i])
          .append('}');
    }
    return yaml.append("]\nnodes: [{name: n, op: ").append(op).append(", inputs: {").append(input).append(": ")
        .append(input).append("}, params: ").append(params).append("}]\n").toString();
  }

  /** The pipeline definition of one node whose inputs are each wired from a pipeline input of the same name. */
  static String yaml(String op, String params, List<TensorSpec> inputs, String... outputs) {
    StringBuilder yaml = new StringBuilder("inputs: [");
    StringBuilder wiring = new StringBuilder();
    for (int i = 0; i < inputs.size(); i++) {
      TensorSpec input = inputs.get(i);
      yaml.append(i == 0 ? "" : ", ").append("{name: ").append(input.name()).append(", datatype: ")
          .append(input.dataType().wireName()).append(", dims: ").append(Shapes.format(input.shape())).append('}');
      wiring.append(i == 0 ? "" : ", ").append(input.name()).append(": ").append(input.name());
    }
    yaml.append("]\noutputs: [");
    for (int i = 0; i < outputs.length; i++) {
      yaml.append(i == 0 ? "" : ", ").append("{name: ").append(outputs[i]).append(", from: n.").append(outputs[i])
          .append('}');
    }
    return yaml.append("]\nnodes: [{name: n, op: ").append(op).append(", inputs: {").append(wiring)
        .append("}, params: ").append(params).append("}]\n").toString();
  }

  static Pipeline compile(String yaml) throws InvalidPipelineException {
    PipelineCompiler compiler = PipelineCompiler.withInstalledOperators((name, version) -> {
      throw new ModelNotFoundException("model '" + name + "' is not in the repository");
    });
    return compiler.compile(PipelineDefinition.parse("p", "pipeline.yaml", yaml));
  }

  /** Compiles {@code yaml} as if read from {@code folder}, where the files its params name are found. */
  static Pipeline compile(String yaml, Path folder) throws InvalidPipelineException {
    PipelineCompiler compiler = PipelineCompiler.withInstalledOperators((name, version) -> {
      throw new ModelNotFoundException("model '" + name + "' is not in the repository");
    });
    return compiler.compile(PipelineDefinition.parse("p", folder, "pipeline.yaml", yaml));
  }

  /** The problems that refuse {@code yaml} at load. */
  static List<String> problems(String yaml) {
    Throwable refused = catchThrowable(() -> compile(yaml));
    assertThat(refused).as("refused at load").isInstanceOf(InvalidPipelineException.class);
    return ((InvalidPipelineException) refused).problems();
  }

  /** The problems that refuse {@code yaml}, read from {@code folder}, at load. */
  static List<String> problems(String yaml, Path folder) {
    Throwable refused = catchThrowable(() -> compile(yaml, folder));
    assertThat(refused).as("refused at load").isInstanceOf(InvalidPipelineException.class);
    return ((InvalidPipelineException) refused).problems();
  }

  /** The outputs of one request, copied out of its memory, which is released before this returns. */
  static List<Tensor> run(Pipeline pipeline, Tensor input) throws Exception {
    MemoryScope memory = MemoryScope.open();
    try {
      List<Tensor> outputs = pipeline.infer(request(input, memory), Runnable::run).get(10, TimeUnit.SECONDS)
          .outputs();
      List<Tensor> copies = new ArrayList<>();
      outputs.forEach(output -> copies.add(output.compactCopy()));
      return copies;
    } finally {
      memory.release();
    }
  }

  /** The outputs of one request of several inputs, copied out of its memory, released before this returns. */
  static List<Tensor> run(Pipeline pipeline, List<Tensor> inputs) throws Exception {
    MemoryScope memory = MemoryScope.open();
    try {
      List<Tensor> outputs = pipeline.infer(request(inputs, memory), Runnable::run).get(10, TimeUnit.SECONDS)
          .outputs();
      return outputs.stream().map(Tensor::compactCopy).toList();
    } finally {
      memory.release();
    }
  }

  /** The message a request fails with; it must be invalid input (400). */
  static String invalidInput(Pipeline pipeline, Tensor input) {
    MemoryScope memory = MemoryScope.open();
    try {
      Throwable failure = catchThrowable(
          () -> pipeline.infer(request(input, memory), Runnable::run).get(10, TimeUnit.SECONDS));
      assertThat(failure).isInstanceOf(ExecutionException.class).cause().isInstanceOf(ServalException.class);
      assertThat(((ServalException) failure.getCause()).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
      return failure.getCause().getMessage();
    } finally {
      memory.release();
    }
  }

  /** The message a request of several inputs fails with; it must be invalid input (400). */
  static String invalidInput(Pipeline pipeline, List<Tensor> inputs) {
    MemoryScope memory = MemoryScope.open();
    try {
      Throwable failure = catchThrowable(
          () -> pipeline.infer(request(inputs, memory), Runnable::run).get(10, TimeUnit.SECONDS));
      assertThat(failure).isInstanceOf(ExecutionException.class).cause().isInstanceOf(ServalException.class);
      assertThat(((ServalException) failure.getCause()).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
      return failure.getCause().getMessage();
    } finally {
      memory.release();
    }
  }

  private static InferenceRequest request(Tensor input, MemoryScope memory) {
    return new InferenceRequest("r", Map.of(), List.of(input), null, true, 0, memory);
  }

  private static InferenceRequest request(List<Tensor> inputs, MemoryScope memory) {
    return new InferenceRequest("r", Map.of(), inputs, null, true, 0, memory);
  }

  /** A UINT8 tensor of {@code values} (0 to 255). */
  static Tensor uint8(String name, long[] shape, int... values) {
    ByteBuffer buffer = Tensor.allocate(values.length);
    for (int value : values) {
      buffer.put((byte) value);
    }
    return Tensor.of(name, DataType.UINT8, shape, buffer.flip());
  }

  /** A BYTES tensor of shape [elements]. */
  static Tensor bytes(String name, byte[]... elements) {
    return Tensor.ofBytes(name, new long[] {elements.length}, List.of(elements));
  }

  static int[] unsigned(Tensor tensor) {
    int[] values = new int[(int) tensor.elementCount()];
    for (int i = 0; i < values.length; i++) {
      values[i] = tensor.numberAt(i).intValue();
    }
    return values;
  }

  static float[] floats(Tensor tensor) {
    float[] values = new float[(int) tensor.elementCount()];
    tensor.floats().get(values);
    return values;
  }

  static long[] longs(Tensor tensor) {
    long[] values = new long[(int) tensor.elementCount()];
    tensor.data().asLongBuffer().get(values);
    return values;
  }

  static List<String> strings(Tensor tensor) {
    return tensor.bytesElements().stream().map(element -> new String(element, StandardCharsets.UTF_8)).toList();
  }
}
