package io.serval.server.testengine;

import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import io.serval.core.DataType;
import io.serval.core.InternalException;
import io.serval.core.ModelSignature;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.engine.EngineAvailability;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelLoadException;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import io.serval.protocol.v2.ModelInferRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * An engine for tests ({@code backend: test}), found through {@link java.util.ServiceLoader} from the test class
 * path only. Its model file {@code model.test} is empty; every model computes {@code y = 2x + 1} on FP32 {@code
 * [batch, 4]} (the affine test model's signature), and the request's own data says how the run behaves, so each
 * test drives exactly the requests it means to:
 * <ul>
 *   <li>a {@link #POISON} element makes any batch holding it throw, as a broken kernel would;
 *   <li>a {@link #HANG} element makes the run hang until the server aborts it ({@link RunContext#abort});
 *   <li>a {@link #BLOCK} element makes the run signal {@link #BLOCKED} and wait until {@link #gate} opens;
 *   <li>an element of {@link #SLOW} + n (n from 1 to 1000) makes the run take at least n milliseconds, as a slow
 *       model would (the load tool's tests measure known latencies with it).
 * </ul>
 */
public final class TestEngine implements InferenceEngine {
  public static final float POISON = -1f;
  public static final float HANG = -2f;
  public static final float BLOCK = -3f;
  public static final float SLOW = 10_000f;
  /** One permit per run that reached {@link #BLOCK} (or {@link #HANG}) and is now waiting. */
  public static final Semaphore BLOCKED = new Semaphore(0);
  /** Instances closed so far. */
  public static final AtomicInteger CLOSED = new AtomicInteger();
  /** Runs started so far. */
  public static final AtomicInteger RUNS = new AtomicInteger();
  /** Runs aborted so far. */
  public static final AtomicInteger ABORTED = new AtomicInteger();
  private static volatile CountDownLatch gate = new CountDownLatch(1);

  static final ModelSignature SIGNATURE = ModelSignature.of(
      List.of(TensorSpec.of("x", DataType.FP32, -1, 4)), List.of(TensorSpec.of("y", DataType.FP32, -1, 4)));

  /** Closes the gate for the next test: runs that reach {@link #BLOCK} wait until {@link #openGate()}. */
  public static void reset() {
    gate = new CountDownLatch(1);
    BLOCKED.drainPermits();
    CLOSED.set(0);
    ABORTED.set(0);
    RUNS.set(0);
  }

  /** Lets every blocked run go on. */
  public static void openGate() {
    gate.countDown();
  }

  @Override
  public String name() {
    return "test";
  }

  @Override
  public EngineAvailability availability() {
    return EngineAvailability.available();
  }

  @Override
  public List<String> modelFileNames() {
    return List.of("model.test");
  }

  @Override
  public ModelSignature inspect(Path modelFile) throws ModelLoadException {
    if (!Files.exists(modelFile)) {
      throw new ModelLoadException("test engine: " + modelFile + " does not exist");
    }
    return SIGNATURE;
  }

  @Override
  public ModelInstance open(InstanceSpec spec) throws ModelLoadException {
    inspect(spec.modelFile());
    return new Instance(spec.toString());
  }

  @Override
  public String threadingSummary() {
    return "no threads of its own";
  }

  @Override
  public void close() {}

  /** Writes a test model folder: {@code repo/name/1/model.test} and the given config. */
  public static Path model(Path repo, String name, String configYaml) {
    try {
      Path version = Files.createDirectories(repo.resolve(name).resolve("1"));
      Files.writeString(version.resolve("model.test"), "");
      Files.writeString(repo.resolve(name).resolve("config.yaml"), "backend: test\n" + configYaml);
      return repo.resolve(name);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A v2 JSON infer body of one row whose four elements are {@code value}. */
  public static String jsonRequest(float value) {
    float[] x = new float[4];
    Arrays.fill(x, value);
    return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":" + Arrays.toString(x) + "}]}";
  }

  /** The same request over gRPC, its data in {@code raw_input_contents}. */
  public static ModelInferRequest grpcRequest(String model, float value) {
    ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 4; i++) {
      data.putFloat(value);
    }
    return ModelInferRequest.newBuilder()
        .setModelName(model)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(1).addShape(4))
        .addRawInputContents(ByteString.copyFrom(data.flip()))
        .build();
  }

  /** Posts {@link #jsonRequest} to {@code model} over HTTP. */
  public static CompletableFuture<AggregatedHttpResponse> post(WebClient http, String model, float value) {
    return http.execute(HttpRequest.of(
        HttpMethod.POST, "/v2/models/" + model + "/infer", MediaType.JSON, jsonRequest(value))).aggregate();
  }

  private static final class Instance implements ModelInstance {
    private final String description;

    Instance(String description) {
      this.description = description;
    }

    @Override
    public ModelSignature signature() {
      return SIGNATURE;
    }

    @Override
    public RunResult run(List<Tensor> inputs, List<String> outputNames, RunContext context) {
      RUNS.incrementAndGet();
      Tensor x = inputs.get(0);
      FloatBuffer values = x.floats();
      boolean poison = false;
      boolean hang = false;
      boolean block = false;
      float slowMillis = 0;
      for (int i = 0; i < values.limit(); i++) {
        float v = values.get(i);
        poison |= v == POISON;
        hang |= v == HANG;
        block |= v == BLOCK;
        if (v > SLOW && v <= SLOW + 1000) {
          slowMillis = Math.max(slowMillis, v - SLOW);
        }
      }
      if (poison) {
        throw new IllegalStateException("poisoned batch in " + description);
      }
      if (hang) {
        CountDownLatch aborted = new CountDownLatch(1);
        context.onAbort(aborted::countDown);
        BLOCKED.release();
        await(aborted, 60);
        ABORTED.incrementAndGet();
        throw new InternalException(description + ": the run was stopped");
      }
      if (block) {
        BLOCKED.release();
        await(gate, 60);
      }
      if (slowMillis > 0) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos((long) slowMillis));
      }
      ByteBuffer out = context.allocate(x.byteSize());
      for (int i = 0; i < values.limit(); i++) {
        out.putFloat(2 * values.get(i) + 1);
      }
      return RunResult.of(List.of(Tensor.of("y", DataType.FP32, x.shape(), out.flip())), 1, 1, 1);
    }

    /**
     * Waits for {@code latch}, through interrupts too (a draining pool interrupts its workers right after aborting
     * their runs, and the abort is what this run must see), restoring the interrupt afterwards.
     */
    private static void await(CountDownLatch latch, long seconds) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      boolean interrupted = false;
      try {
        while (true) {
          try {
            if (!latch.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
              throw new IllegalStateException("test engine: nobody released the run in " + seconds + " s");
            }
            return;
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public void close() {
      CLOSED.incrementAndGet();
    }

    @Override
    public String toString() {
      return description;
    }
  }
}
