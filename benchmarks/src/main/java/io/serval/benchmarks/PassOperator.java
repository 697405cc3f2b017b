package io.serval.benchmarks;

import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.NodeContext;
import io.serval.dag.NodeParameters;
import io.serval.dag.Operator;
import io.serval.dag.OperatorFactory;
import io.serval.dag.ServableResolver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

/**
 * {@code op: pass}, {@code params: {inputs: N}} (1 to 8, default 1): inputs {@code in0} to {@code in<N-1>},
 * output {@code y}, which is {@code in0} itself (no copy, no allocation in the request's memory). The trivial
 * operator the executor benchmarks build their pipelines of, so what they measure is the executor alone.
 */
public final class PassOperator implements Operator {
  private final List<String> inputs;

  private PassOperator(int count) {
    this.inputs = IntStream.range(0, count).mapToObj(i -> "in" + i).toList();
  }

  /** The factory ServiceLoader finds (benchmarks/src/main/resources/META-INF/services). */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "pass";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("inputs"));
      return new PassOperator(parameters.integer("inputs", 1, 1, 8));
    }
  }

  @Override
  public List<String> inputNames() {
    return inputs;
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> given) {
    TensorSpec first = given.get(inputs.get(0));
    return List.of(TensorSpec.of("y", first.dataType(), first.shape()));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> given, NodeContext context) {
    return CompletableFuture.completedFuture(List.of(given.get(inputs.get(0)).withName("y")));
  }
}
