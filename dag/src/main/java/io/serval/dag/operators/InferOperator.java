package io.serval.dag.operators;

import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.Servable;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.NodeContext;
import io.serval.dag.NodeParameters;
import io.serval.dag.Operator;
import io.serval.dag.OperatorFactory;
import io.serval.dag.ServableResolver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: infer}, {@code params: {model: NAME, version: V}}: runs a served model. Its inputs and outputs are
 * the model's; its requests join the model's own queue, so they are batched with direct calls to it. The model
 * is resolved again for every request, so a new version is picked up as direct calls pick it up.
 */
public final class InferOperator implements Operator {
  private final ServableResolver servables;
  private final String model;
  private final String version;
  private final Servable resolved;

  private InferOperator(ServableResolver servables, String model, String version, Servable resolved) {
    this.servables = servables;
    this.model = model;
    this.version = version;
    this.resolved = resolved;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "infer";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("model", "version"));
      String model = parameters.string("model");
      String version = parameters.optionalString("version");
      try {
        return new InferOperator(servables, model, version == null ? "" : version,
            servables.resolve(model, version == null ? "" : version));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("params.model: " + e.getMessage(), e);
      }
    }
  }

  @Override
  public List<String> inputNames() {
    return resolved.signature().inputs().stream().map(TensorSpec::name).toList();
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    for (TensorSpec expected : resolved.signature().inputs()) {
      TensorSpec given = inputs.get(expected.name());
      String where = "inputs." + expected.name() + ": ";
      if (given.dataType() != expected.dataType()) {
        throw new IllegalArgumentException(where + "datatype " + given.dataType().wireName() + " (expected: "
            + expected.dataType().wireName() + ", as " + resolved.label() + " takes)");
      }
      if (!fits(given.shape(), expected.shape())) {
        throw new IllegalArgumentException(where + "shape " + Shapes.format(given.shape()) + " (expected: "
            + Shapes.format(expected.shape()) + ", as " + resolved.label() + " takes; -1 is any size)");
      }
    }
    return resolved.signature().outputs();
  }

  private static boolean fits(long[] given, long[] expected) {
    if (given.length != expected.length) {
      return false;
    }
    for (int i = 0; i < given.length; i++) {
      if (given[i] != Shapes.DYNAMIC && expected[i] != Shapes.DYNAMIC && given[i] != expected[i]) {
        return false;
      }
    }
    return true;
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Servable servable = servables.resolve(model, version);
    List<Tensor> named = new ArrayList<>();
    inputs.forEach((name, tensor) -> named.add(tensor.withName(name)));
    InferenceRequest request =
        new InferenceRequest("", Map.of(), named, null, true, context.deadlineNanos(), context.memory());
    return servable.infer(request, context.executor()).thenApply(InferenceResult::outputs);
  }
}
