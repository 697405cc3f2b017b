package io.serval.dag;

import io.serval.core.DataType;
import io.serval.core.InvalidInputException;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: switch}: picks one branch from a value, a conditional neither Triton's ensembles nor Paddle Serving
 * have. Input {@code value}: one element, BYTES (as UTF-8), an integer type (in decimal) or BOOL ({@code true} /
 * {@code false}); output {@code case}: the key it picked. {@code params: {cases: {KEY: [node, ...], ...}}} names
 * the nodes each case runs: they wait for the switch, and run only when their case is picked; the others are
 * skipped, and so is every node that reads a skipped node, except a {@code first} node, which takes the first
 * of its inputs that was produced. A value that matches no case fails the request (400), naming the value and
 * the cases.
 */
public final class SwitchOperator implements Operator {
  private final Map<String, List<String>> cases;

  private SwitchOperator(Map<String, List<String>> cases) {
    this.cases = cases;
  }

  /** Found by ServiceLoader. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "switch";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("cases"));
      Map<String, List<String>> cases = parameters.caseLists("cases");
      if (cases.isEmpty()) {
        throw new IllegalArgumentException("params.cases: none (expected: a mapping of value -> [node, ...])");
      }
      return new SwitchOperator(new LinkedHashMap<>(cases));
    }
  }

  /** The nodes each case runs, by the value that picks it. */
  public Map<String, List<String>> cases() {
    return cases;
  }

  @Override
  public List<String> inputNames() {
    return List.of("value");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec value = inputs.get("value");
    boolean integral = value.dataType().isFixedSize() && value.dataType() != DataType.FP16
        && value.dataType() != DataType.BF16 && value.dataType() != DataType.FP32
        && value.dataType() != DataType.FP64;
    if (value.dataType() != DataType.BYTES && !integral) {
      throw new IllegalArgumentException("inputs.value: " + value.dataType().wireName()
          + " (expected: BYTES, an integer type or BOOL)");
    }
    return List.of(TensorSpec.of("case", DataType.BYTES, 1));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor value = inputs.get("value");
    if (value.elementCount() != 1) {
      throw new InvalidInputException("input 'value' has " + value.elementCount() + " elements (expected: 1)");
    }
    String key = value.dataType() == DataType.BYTES
        ? new String(value.bytesElements().get(0), StandardCharsets.UTF_8)
        : value.dataType() == DataType.BOOL ? Boolean.toString(value.numberAt(0).intValue() != 0)
        : value.numberAt(0).toString();
    if (!cases.containsKey(key)) {
      throw new InvalidInputException("value '" + key + "' matches no case (expected one of: "
          + String.join(", ", cases.keySet()) + ")");
    }
    byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buffer = context.memory().allocate(Integer.BYTES + utf8.length);
    buffer.putInt(utf8.length).put(utf8).flip();
    return CompletableFuture.completedFuture(List.of(Tensor.of("case", DataType.BYTES, new long[] {1}, buffer)));
  }

  /** The key a finished switch picked, read back from its output. */
  static String picked(List<Tensor> outputs) {
    return new String(outputs.get(0).bytesElements().get(0), StandardCharsets.UTF_8);
  }
}
