package io.serval.dag.operators;

import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.InvalidInputException;
import io.serval.core.Servable;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.NodeContext;
import io.serval.dag.NodeParameters;
import io.serval.dag.Operator;
import io.serval.dag.OperatorFactory;
import io.serval.dag.ServableResolver;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * {@code op: infer}, {@code params: {model: NAME, version: V}}: runs a served model. Its inputs and outputs are
 * the model's; its requests join the model's own queue, so they are batched with direct calls to it. The model
 * is resolved again for every request, so a new version is picked up as direct calls pick it up.
 *
 * <p>For a batching model (max_batch_size above 0), the rows a node hands it need not fit one batch, as the
 * number of text lines on a page does not: more rows than max_batch_size go as several requests at once, whose
 * outputs are joined in order (their sizes other than the batch must agree); no rows at all answer outputs of no
 * rows (0 for the sizes the model leaves open) without a call.
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
    int maxBatch = servable.maxBatchSize();
    long rows = maxBatch > 0 && !named.isEmpty() && named.get(0).rank() > 0 ? named.get(0).dim(0) : -1;
    if (rows == 0) {
      return CompletableFuture.completedFuture(empty(servable));
    }
    if (rows <= maxBatch) {
      return infer(servable, named, context);
    }
    // More rows than the model takes at once: its batches, run at the same time, answered as one.
    List<List<byte[]>> elements = new ArrayList<>();
    for (Tensor tensor : named) {
      if (tensor.rank() == 0 || tensor.dim(0) != rows) {
        throw new InvalidInputException("input '" + tensor.name() + "' has shape " + Shapes.format(tensor.shape())
            + " (expected: " + rows + " rows, as input '" + named.get(0).name() + "')");
      }
      // A BYTES tensor's elements are found once, not once per batch.
      elements.add(tensor.dataType() == DataType.BYTES ? tensor.bytesElements() : null);
    }
    List<CompletableFuture<List<Tensor>>> parts = new ArrayList<>();
    for (long from = 0; from < rows; from += maxBatch) {
      long to = Math.min(rows, from + maxBatch);
      List<Tensor> part = new ArrayList<>();
      for (int i = 0; i < named.size(); i++) {
        part.add(rowsOf(named.get(i), elements.get(i), from, to, context));
      }
      parts.add(infer(servable, part, context));
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
      List<List<Tensor>> answers = parts.stream().map(CompletableFuture::join).toList();
      List<Tensor> outputs = new ArrayList<>();
      for (int i = 0; i < answers.get(0).size(); i++) {
        int output = i;
        outputs.add(concatenate(answers.stream().map(answer -> answer.get(output)).toList(), context));
      }
      return outputs;
    });
  }

  private static CompletableFuture<List<Tensor>> infer(Servable servable, List<Tensor> inputs, NodeContext context) {
    InferenceRequest request =
        new InferenceRequest("", Map.of(), inputs, null, true, context.deadlineNanos(), context.memory());
    return servable.infer(request, context.executor()).thenApply(InferenceResult::outputs);
  }

  /** What a batch of no rows yields without asking the model: each output with 0 rows, and 0 for unknown sizes. */
  private static List<Tensor> empty(Servable servable) {
    List<Tensor> outputs = new ArrayList<>();
    for (TensorSpec spec : servable.signature().outputs()) {
      long[] shape = spec.shape().clone();
      for (int i = 0; i < shape.length; i++) {
        shape[i] = i == 0 || shape[i] == Shapes.DYNAMIC ? 0 : shape[i];
      }
      outputs.add(Tensor.of(spec.name(), spec.dataType(), shape, ByteBuffer.allocateDirect(0)));
    }
    return outputs;
  }

  /** Rows {@code from} to {@code to} (exclusive) of {@code tensor}: a view for fixed-size types, a copy for BYTES. */
  private static Tensor rowsOf(Tensor tensor, @Nullable List<byte[]> bytesElements, long from, long to,
      NodeContext context) {
    long[] shape = tensor.shape().clone();
    shape[0] = to - from;
    long perRow = tensor.elementCount() / tensor.dim(0);
    if (bytesElements == null) {
      int rowBytes = Math.toIntExact(perRow * tensor.dataType().byteSize());
      ByteBuffer data = tensor.data();
      data.limit(Math.toIntExact(to * rowBytes)).position(Math.toIntExact(from * rowBytes));
      return Tensor.of(tensor.name(), tensor.dataType(), shape, data.slice());
    }
    List<byte[]> elements = bytesElements.subList(Math.toIntExact(from * perRow),
        Math.toIntExact(to * perRow));
    long bytes = 0;
    for (byte[] element : elements) {
      bytes += Integer.BYTES + element.length;
    }
    ByteBuffer data = context.memory().allocate(bytes);
    elements.forEach(element -> data.putInt(element.length).put(element));
    return Tensor.of(tensor.name(), tensor.dataType(), shape, data.flip());
  }

  /** One tensor of the parts' rows in order (the serialised forms of every datatype, BYTES too, just follow). */
  private static Tensor concatenate(List<Tensor> parts, NodeContext context) {
    Tensor first = parts.get(0);
    long[] shape = first.shape().clone();
    long bytes = 0;
    for (Tensor part : parts) {
      for (int axis = 1; axis < shape.length; axis++) {
        if (part.dim(axis) != shape[axis]) {
          throw new IllegalStateException("output '" + first.name() + "' has shape " + Shapes.format(part.shape())
              + " in one batch and " + Shapes.format(first.shape()) + " in another");
        }
      }
      bytes += part.byteSize();
    }
    shape[0] = parts.stream().mapToLong(part -> part.dim(0)).sum();
    ByteBuffer data = context.memory().allocate(bytes);
    parts.forEach(part -> data.put(part.data()));
    return Tensor.of(first.name(), first.dataType(), shape, data.flip());
  }
}
