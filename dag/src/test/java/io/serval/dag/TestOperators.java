package io.serval.dag;

import io.serval.core.DataType;
import io.serval.core.InvalidInputException;
import io.serval.core.ModelUnavailableException;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/** Operators for tests: arithmetic on FP32 tensors, one that waits for a latch, one that fails on demand. */
final class TestOperators {
  private TestOperators() {}

  /** {@code op: <type>}: inputs {@code inputs}, one FP32 output {@code y} shaped like the first input. */
  static OperatorFactory factory(String type, List<String> inputs, BiFunction<Map<String, Tensor>, NodeContext,
      float[]> compute) {
    return new OperatorFactory() {
      @Override
      public String type() {
        return type;
      }

      @Override
      public Operator create(NodeParameters parameters, ServableResolver servables) {
        parameters.rejectUnknown(List.of());
        return new Operator() {
          @Override
          public List<String> inputNames() {
            return inputs;
          }

          @Override
          public List<TensorSpec> outputs(Map<String, TensorSpec> given) {
            for (String input : inputs) {
              if (given.get(input).dataType() != DataType.FP32) {
                throw new IllegalArgumentException("inputs." + input + ": datatype "
                    + given.get(input).dataType().wireName() + " (expected: FP32)");
              }
            }
            return List.of(TensorSpec.of("y", DataType.FP32, given.get(inputs.get(0)).shape()));
          }

          @Override
          public CompletableFuture<List<Tensor>> run(Map<String, Tensor> given, NodeContext context) {
            float[] values = compute.apply(given, context);
            ByteBuffer buffer = context.memory().allocate((long) values.length * Float.BYTES);
            buffer.asFloatBuffer().put(values);
            return CompletableFuture.completedFuture(
                List.of(Tensor.of("y", DataType.FP32, given.get(inputs.get(0)).shape(), buffer)));
          }
        };
      }
    };
  }

  static float[] floats(Tensor tensor) {
    FloatBuffer buffer = tensor.floats();
    float[] values = new float[buffer.remaining()];
    buffer.get(values);
    return values;
  }

  /** {@code op: plus}: y = a + b. */
  static OperatorFactory plus() {
    return factory("plus", List.of("a", "b"), (given, context) -> {
      float[] a = floats(given.get("a"));
      float[] b = floats(given.get("b"));
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
      return a;
    });
  }

  /** {@code op: <type>}: y = x * factor, after waiting (blocking its thread) until {@code latch} opens. */
  static OperatorFactory scaleAfter(String type, float factor, CountDownLatch latch) {
    return factory(type, List.of("x"), (given, context) -> {
      latch.countDown();
      try {
        if (!latch.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException(type + ": the other branch never started");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      float[] x = floats(given.get("x"));
      for (int i = 0; i < x.length; i++) {
        x[i] *= factor;
      }
      return x;
    });
  }

  /** {@code op: hold}: y = x, when {@code release} completes (a test cancels or completes it). */
  static OperatorFactory hold(CompletableFuture<List<Tensor>> release) {
    return new OperatorFactory() {
      @Override
      public String type() {
        return "hold";
      }

      @Override
      public Operator create(NodeParameters parameters, ServableResolver servables) {
        Operator copy = factory("hold", List.of("x"), (given, context) -> floats(given.get("x")))
            .create(parameters, servables);
        return new Operator() {
          @Override
          public List<String> inputNames() {
            return copy.inputNames();
          }

          @Override
          public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
            return copy.outputs(inputs);
          }

          @Override
          public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
            return release;
          }
        };
      }
    };
  }

  /** {@code op: broken}: a bug: throws an unchecked exception that is no ServalException. */
  static OperatorFactory broken() {
    return factory("broken", List.of("x"), (given, context) -> {
      throw new ArrayIndexOutOfBoundsException("Index 7 out of bounds for length 2");
    });
  }

  /** {@code op: flaky}: y = x, after failing as unavailable the first {@code failures} times it runs. */
  static OperatorFactory flaky(AtomicInteger runs, int failures) {
    return factory("flaky", List.of("x"), (given, context) -> {
      if (runs.incrementAndGet() <= failures) {
        throw new ModelUnavailableException("the model is reloading");
      }
      return floats(given.get("x"));
    });
  }

  /** {@code op: reject}: fails every request as bad input. */
  static OperatorFactory reject() {
    return factory("reject", List.of("x"), (given, context) -> {
      throw new InvalidInputException("values out of range");
    });
  }

  /** {@code op: count}: y = x, counting its runs. */
  static OperatorFactory count(AtomicInteger runs) {
    return factory("count", List.of("x"), (given, context) -> {
      runs.incrementAndGet();
      return floats(given.get("x"));
    });
  }
}
