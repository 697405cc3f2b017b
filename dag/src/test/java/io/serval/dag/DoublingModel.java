package io.serval.dag;

import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.ModelNotFoundException;
import io.serval.core.ModelSignature;
import io.serval.core.RequestTimings;
import io.serval.core.RequestedOutput;
import io.serval.core.Servable;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A served model for tests: {@code double}, y = 2 * x over FP32 [-1, 4] (or [-1, -1]), counting its requests and
 * keeping the shape of each.
 */
final class DoublingModel implements Servable {
  final AtomicInteger requests = new AtomicInteger();
  final List<long[]> shapes = new CopyOnWriteArrayList<>();
  private final long width;

  /** Rows of 4 values. */
  DoublingModel() {
    this(4);
  }

  /** Rows of {@code width} values, -1 for any. */
  DoublingModel(long width) {
    this.width = width;
  }

  /** Resolves {@code double} to this model and anything else to "not found". */
  ServableResolver resolver() {
    return (name, version) -> {
      if (!name.equals("double") || !(version.isEmpty() || version.equals("1"))) {
        throw new ModelNotFoundException("model '" + name + "'" + (version.isEmpty() ? "" : " version " + version)
            + " is not in the repository");
      }
      return this;
    };
  }

  @Override
  public String name() {
    return "double";
  }

  @Override
  public String version() {
    return "1";
  }

  @Override
  public ModelSignature signature() {
    return ModelSignature.of(List.of(TensorSpec.of("x", DataType.FP32, -1, width)),
        List.of(TensorSpec.of("y", DataType.FP32, -1, width)));
  }

  @Override
  public int maxBatchSize() {
    return 8;
  }

  @Override
  public String label() {
    return "model 'double' version 1";
  }

  @Override
  public CompletableFuture<InferenceResult> infer(InferenceRequest request, Executor executor) {
    requests.incrementAndGet();
    shapes.add(request.inputs().get(0).shape());
    return CompletableFuture.supplyAsync(() -> {
      Tensor x = request.inputs().get(0);
      float[] values = TestOperators.floats(x);
      ByteBuffer buffer = request.memory().allocate((long) values.length * Float.BYTES);
      for (float value : values) {
        buffer.putFloat(2 * value);
      }
      buffer.flip();
      Tensor y = Tensor.of("y", DataType.FP32, x.shape(), buffer);
      return new InferenceResult(name(), version(), request.id(), List.of(y),
          List.of(new RequestedOutput("y", true, 0)), RequestTimings.NONE);
    }, executor);
  }
}
