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
import java.util.LinkedHashMap;
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
 *
 * <p>Rows of different lengths, padded to the longest to travel as one tensor (the text lines of a page, cut out
 * at their own widths): {@code params: {ragged: INPUT, ragged_axis: AXIS, min_length: L}} and a node input {@code
 * lengths} (INT64 [rows]) name the input, the axis it is padded along (default its last; a size the model leaves
 * open, never the batch) and each row's own length there. Each row is cut back to its length (at least {@code
 * min_length}, default 1, and at most the padded size) and rows of one length go to the model together, so no row
 * pays for another's padding, which on a CPU costs as much as the row itself. The outputs are joined in row order
 * and padded with 0 where their sizes differ between lengths (a CTC model's shorter rows end in all-zero steps,
 * which decode as blanks). Refused at load: a model that does not batch, a ragged axis the model fixes, and
 * BYTES inputs or outputs; per request, a length outside 1 to the padded size, naming the row.
 */
public final class InferOperator implements Operator {
  /** The node input that gives each row's length when {@code ragged} is set. */
  private static final String LENGTHS = "lengths";

  private final ServableResolver servables;
  private final String model;
  private final String version;
  private final Servable resolved;
  private final @Nullable Ragged ragged;

  /** The input whose rows are padded, the axis (from 1) they are padded along and the least length of a row. */
  private record Ragged(String input, int axis, long minLength) {}

  private InferOperator(ServableResolver servables, String model, String version, Servable resolved,
      @Nullable Ragged ragged) {
    this.servables = servables;
    this.model = model;
    this.version = version;
    this.resolved = resolved;
    this.ragged = ragged;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "infer";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("model", "version", "ragged", "ragged_axis", "min_length"));
      String model = parameters.string("model");
      String version = parameters.optionalString("version");
      Servable resolved;
      try {
        resolved = servables.resolve(model, version == null ? "" : version);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("params.model: " + e.getMessage(), e);
      }
      String raggedInput = parameters.optionalString("ragged");
      if (raggedInput == null && (parameters.has("ragged_axis") || parameters.has("min_length"))) {
        throw new IllegalArgumentException("params.ragged: missing (ragged_axis and min_length apply to the input"
            + " it names)");
      }
      return new InferOperator(servables, model, version == null ? "" : version, resolved,
          raggedInput == null ? null : ragged(parameters, raggedInput, resolved));
    }

    private static Ragged ragged(NodeParameters parameters, String input, Servable resolved) {
      if (resolved.maxBatchSize() <= 0) {
        throw new IllegalArgumentException("params.ragged: " + resolved.label() + " does not batch (max_batch_size"
            + " 0), so its inputs have no rows to cut to their lengths");
      }
      TensorSpec padded = resolved.signature().inputs().stream().filter(spec -> spec.name().equals(input))
          .findFirst().orElseThrow(() -> new IllegalArgumentException("params.ragged: '" + input + "' is not an"
              + " input of " + resolved.label() + " (expected one of: " + String.join(", ", resolved.signature()
              .inputs().stream().map(TensorSpec::name).toList()) + ")"));
      int rank = padded.shape().length;
      int axis = parameters.integer("ragged_axis", rank - 1, 1, Math.max(1, rank - 1));
      if (padded.shape()[axis] != Shapes.DYNAMIC) {
        throw new IllegalArgumentException("params.ragged_axis: axis " + axis + " of input '" + input + "' is "
            + padded.shape()[axis] + " in " + resolved.label() + Shapes.format(padded.shape()) + " (expected: a"
            + " size the model leaves open, -1)");
      }
      for (List<TensorSpec> specs : List.of(resolved.signature().inputs(), resolved.signature().outputs())) {
        for (TensorSpec spec : specs) {
          if (spec.dataType() == DataType.BYTES) {
            throw new IllegalArgumentException("params.ragged: " + resolved.label() + " has the BYTES tensor '"
                + spec.name() + "' (expected: fixed-size datatypes only, whose rows can be cut and padded)");
          }
        }
      }
      return new Ragged(input, axis, parameters.integer("min_length", 1, 1, Integer.MAX_VALUE));
    }
  }

  @Override
  public List<String> inputNames() {
    List<String> names = new ArrayList<>(resolved.signature().inputs().stream().map(TensorSpec::name).toList());
    if (ragged != null) {
      names.add(LENGTHS);
    }
    return names;
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
    if (ragged != null) {
      TensorSpec lengths = inputs.get(LENGTHS);
      if (lengths.dataType() != DataType.INT64 || lengths.shape().length != 1) {
        throw new IllegalArgumentException("inputs." + LENGTHS + ": " + lengths.dataType().wireName()
            + Shapes.format(lengths.shape()) + " (expected: INT64 [rows], the length of each row of '"
            + ragged.input() + "' along axis " + ragged.axis() + ")");
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
    inputs.forEach((name, tensor) -> {
      if (ragged == null || !name.equals(LENGTHS)) {
        named.add(tensor.withName(name));
      }
    });
    return ragged == null ? rows(servable, named, context)
        : raggedRows(servable, named, inputs.get(LENGTHS), ragged, context);
  }

  /** The model's outputs for {@code named}'s rows, in batches the model takes. */
  private static CompletableFuture<List<Tensor>> rows(Servable servable, List<Tensor> named, NodeContext context) {
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

  /**
   * The model's outputs for rows padded along {@code ragged}'s axis: each row cut to its length, the rows of one
   * length run together, their outputs joined in row order and padded with 0.
   */
  private static CompletableFuture<List<Tensor>> raggedRows(Servable servable, List<Tensor> named, Tensor lengths,
      Ragged ragged, NodeContext context) {
    Tensor padded = named.stream().filter(tensor -> tensor.name().equals(ragged.input())).findFirst().orElseThrow();
    int rows = Math.toIntExact(padded.dim(0));
    if (lengths.dataType() != DataType.INT64 || lengths.rank() != 1 || lengths.dim(0) != rows) {
      throw new InvalidInputException("input '" + LENGTHS + "' has shape " + Shapes.format(lengths.shape())
          + " (expected: INT64 [" + rows + "], a length for each row of input '" + ragged.input() + "')");
    }
    for (Tensor tensor : named) {
      if (tensor.rank() == 0 || tensor.dim(0) != rows) {
        throw new InvalidInputException("input '" + tensor.name() + "' has shape " + Shapes.format(tensor.shape())
            + " (expected: " + rows + " rows, as input '" + ragged.input() + "')");
      }
    }
    long full = padded.dim(ragged.axis());
    Map<Long, List<Integer>> rowsByLength = new LinkedHashMap<>();
    for (int row = 0; row < rows; row++) {
      long length = lengths.data().getLong(row * Long.BYTES);
      if (length < 1 || length > full) {
        throw new InvalidInputException("input '" + LENGTHS + "': row " + row + " is " + length + " long (expected:"
            + " 1 to " + full + ", the padded size of axis " + ragged.axis() + " of input '" + ragged.input() + "')");
      }
      rowsByLength.computeIfAbsent(Math.min(full, Math.max(ragged.minLength(), length)), key -> new ArrayList<>())
          .add(row);
    }
    if (rowsByLength.size() <= 1 && rowsByLength.keySet().stream().allMatch(length -> length == full)) {
      return rows(servable, named, context);
    }
    List<List<Integer>> groups = List.copyOf(rowsByLength.values());
    List<CompletableFuture<List<Tensor>>> parts = new ArrayList<>();
    rowsByLength.forEach((length, group) -> {
      List<Tensor> part = new ArrayList<>();
      for (Tensor tensor : named) {
        part.add(tensor == padded ? gather(tensor, group, ragged.axis(), length, context)
            : gather(tensor, group, 0, tensor.dim(0), context));
      }
      parts.add(rows(servable, part, context));
    });
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(ignored -> {
      List<List<Tensor>> answers = parts.stream().map(CompletableFuture::join).toList();
      List<Tensor> outputs = new ArrayList<>();
      for (int i = 0; i < answers.get(0).size(); i++) {
        int output = i;
        outputs.add(scatter(answers.stream().map(answer -> answer.get(output)).toList(), groups, rows, context));
      }
      return outputs;
    });
  }

  /**
   * Rows {@code rows} of a fixed-size tensor, in that order, each cut to its first {@code length} positions along
   * {@code axis} (axis 0: whole rows).
   */
  private static Tensor gather(Tensor tensor, List<Integer> rows, int axis, long length, NodeContext context) {
    long[] shape = tensor.shape().clone();
    long outer = 1;
    for (int d = 1; d < axis; d++) {
      outer *= shape[d];
    }
    long inner = tensor.dataType().byteSize();
    for (int d = axis + 1; d < shape.length; d++) {
      inner *= shape[d];
    }
    long run = axis == 0 ? inner : length * inner;
    long stride = axis == 0 ? inner : shape[axis] * inner;
    long rowBytes = outer * stride;
    shape[0] = rows.size();
    if (axis > 0) {
      shape[axis] = length;
    }
    ByteBuffer source = tensor.data();
    ByteBuffer data = context.memory().allocate(rows.size() * outer * run);
    int at = 0;
    for (int row : rows) {
      for (long o = 0; o < outer; o++) {
        data.put(at, source, Math.toIntExact(row * rowBytes + o * stride), Math.toIntExact(run));
        at += Math.toIntExact(run);
      }
    }
    return Tensor.of(tensor.name(), tensor.dataType(), shape, data);
  }

  /**
   * One tensor of {@code rows} rows from the parts, part {@code i} holding rows {@code groups.get(i)} in order;
   * each size the largest of the parts', the rest 0.
   */
  private static Tensor scatter(List<Tensor> parts, List<List<Integer>> groups, int rows, NodeContext context) {
    Tensor first = parts.get(0);
    long[] shape = first.shape().clone();
    shape[0] = rows;
    for (Tensor part : parts) {
      for (int d = 1; d < shape.length; d++) {
        shape[d] = Math.max(shape[d], part.dim(d));
      }
    }
    int elementBytes = first.dataType().byteSize();
    long[] strides = new long[shape.length];
    long stride = elementBytes;
    for (int d = shape.length - 1; d >= 0; d--) {
      strides[d] = stride;
      stride *= shape[d];
    }
    ByteBuffer data = context.memory().allocate(stride);
    for (int p = 0; p < parts.size(); p++) {
      Tensor part = parts.get(p);
      long[] dims = part.shape();
      long run = (dims.length > 1 ? dims[dims.length - 1] : 1) * elementBytes;
      long runsPerRow = 1;
      for (int d = 1; d < dims.length - 1; d++) {
        runsPerRow *= dims[d];
      }
      ByteBuffer source = part.data();
      int from = 0;
      for (int row : groups.get(p)) {
        for (long r = 0; r < runsPerRow; r++) {
          // Where run r of this row starts in the joined tensor: its index over the axes between, by their strides.
          long to = row * strides[0];
          long rest = r;
          for (int d = dims.length - 2; d >= 1; d--) {
            to += (rest % dims[d]) * strides[d];
            rest /= dims[d];
          }
          data.put(Math.toIntExact(to), source, from, Math.toIntExact(run));
          from += Math.toIntExact(run);
        }
      }
    }
    return Tensor.of(first.name(), first.dataType(), shape, data);
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
