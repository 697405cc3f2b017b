package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.Tensor;
import io.serval.server.metrics.ModelStatistics;
import io.serval.server.repository.ModelVersion;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The dynamic batcher across a matrix of configurations, in the spirit of Caffeine's parameterised cache tests:
 * in every cell thousands of concurrent requests with distinct inputs (of 1 to 3 rows) each get exactly the
 * output the unbatched model gives for its own input, and the statistics add up afterwards. The model is the
 * exact affine model (y = 2x + 1), so any row given to the wrong caller, lost or duplicated shows as a mismatch.
 */
class BatchingMatrixTest {
  private static final int REQUESTS = 2000;

  static Stream<Arguments> cells() {
    List<Arguments> cells = new ArrayList<>();
    for (int maxBatchSize : new int[] {1, 4, 8}) {
      for (int delayMicros : new int[] {0, 2000}) {
        for (int instances : new int[] {1, 2}) {
          for (int concurrency : new int[] {1, 32}) {
            cells.add(Arguments.of(maxBatchSize, delayMicros, instances, concurrency));
          }
        }
      }
    }
    return cells.stream();
  }

  @ParameterizedTest(name = "max_batch_size {0}, max_queue_delay {1} us, {2} instance(s), concurrency {3}")
  @MethodSource("cells")
  void everyCallerGetsExactlyItsOwnRows(
      int maxBatchSize, int delayMicros, int instances, int concurrency, @TempDir Path repository) throws Exception {
    TestRepositories.affineModel(repository, "affine", "max_batch_size: " + maxBatchSize + "\ninstances: " + instances
        + "\ndynamic_batching:\n  max_queue_delay_microseconds: " + delayMicros + "\n");
    int maxRows = Math.min(maxBatchSize, 3);
    try (InProcessServing serving = InProcessServing.load(repository, 0)) {
      ExecutorService callers = Executors.newFixedThreadPool(concurrency);
      List<Future<?>> calls = new ArrayList<>();
      long totalRows = 0;
      for (int k = 0; k < REQUESTS; k++) {
        int request = k;
        int rows = 1 + k % maxRows;
        totalRows += rows;
        calls.add(callers.submit(() -> {
          float[] x = distinctInput(request, rows);
          InProcessServing.Answer result = serving.infer("affine", "request-" + request,
                  List.of(Tensor.ofFloats("x", new long[] {rows, 4}, x)))
              .get(30, TimeUnit.SECONDS);
          assertThat(result.id).isEqualTo("request-" + request);
          Tensor y = result.outputs.get(0);
          assertThat(y.shape()).containsExactly(rows, 4);
          FloatBuffer values = y.floats();
          for (int i = 0; i < x.length; i++) {
            assertThat(values.get(i)).as("request %d element %d", request, i).isEqualTo(2 * x[i] + 1);
          }
          return null;
        }));
      }
      for (Future<?> call : calls) {
        call.get(60, TimeUnit.SECONDS);
      }
      callers.shutdown();

      ModelVersion version = serving.repository.resolve("affine", "");
      ModelStatistics stats = version.metrics().statistics();
      assertThat(stats.success().count()).isEqualTo(REQUESTS);
      assertThat(stats.fail().count()).isZero();
      assertThat(stats.inferenceCount()).isEqualTo(totalRows);
      assertThat(stats.pending()).isZero();
      assertThat(stats.executionCount()).isBetween(1L, (long) REQUESTS);
      assertThat(stats.batches().keySet()).allSatisfy(size -> assertThat(size).isBetween(1, maxBatchSize));
      assertThat(stats.batches().values().stream().mapToLong(b -> b.computeInfer().count()).sum())
          .isEqualTo(stats.executionCount());
      assertThat(stats.batches().entrySet().stream()
          .mapToLong(e -> e.getKey() * e.getValue().computeInfer().count()).sum()).isEqualTo(totalRows);
      if (maxBatchSize > 1 && delayMicros > 0 && concurrency > 1) {
        assertThat(stats.executionCount()).as("requests were batched").isLessThan(REQUESTS);
      }
      if (maxBatchSize == 1) {
        assertThat(stats.executionCount()).isEqualTo(REQUESTS);
      }
    }
  }

  @Test
  void batchingTheRealClassifierGivesEachCallerWhatAnUnbatchedRunGives(@TempDir Path repository) throws Exception {
    String signature = "max_batch_size: 8\ninputs:\n  - {name: x, datatype: FP32, dims: [3, 48, 192]}\n";
    TestRepositories.onnxModel(repository, "alone", signature, 1);
    TestRepositories.onnxModel(repository, "batched", signature + "instances: 2\ndynamic_batching:\n"
        + "  max_queue_delay_microseconds: 2000\n", 1);
    int requests = 96;
    Random random = new Random(7);
    List<float[]> inputs = new ArrayList<>();
    for (int k = 0; k < requests; k++) {
      float[] x = new float[3 * 48 * 192];
      for (int i = 0; i < x.length; i++) {
        x[i] = random.nextFloat() * 2 - 1;
      }
      inputs.add(x);
    }
    try (InProcessServing serving = InProcessServing.load(repository, 0)) {
      List<float[]> expected = new ArrayList<>();
      for (float[] x : inputs) {
        expected.add(scores(serving, "alone", x).get(30, TimeUnit.SECONDS));
      }
      ExecutorService callers = Executors.newFixedThreadPool(16);
      List<Future<float[]>> batched = new ArrayList<>();
      for (float[] x : inputs) {
        batched.add(callers.submit(() -> scores(serving, "batched", x).get(30, TimeUnit.SECONDS)));
      }
      for (int k = 0; k < requests; k++) {
        float[] actual = batched.get(k).get(60, TimeUnit.SECONDS);
        assertThat(actual[0]).as("request %d", k).isCloseTo(expected.get(k)[0], within(1e-5f));
        assertThat(actual[1]).as("request %d", k).isCloseTo(expected.get(k)[1], within(1e-5f));
      }
      callers.shutdown();
      assertThat(serving.repository.resolve("batched", "").metrics().statistics().executionCount())
          .as("requests were batched").isLessThan(requests);
    }
  }

  private static CompletableFuture<float[]> scores(InProcessServing serving, String model, float[] x) {
    return serving.infer(model, "", List.of(Tensor.ofFloats("x", new long[] {1, 3, 48, 192}, x)))
        .thenApply(result -> new float[] {result.outputs.get(0).floats().get(0), result.outputs.get(0).floats().get(1)});
  }

  /** Rows no other request has: request k, row r holds k + r / 4 + j / 16 at column j. */
  private static float[] distinctInput(int request, int rows) {
    float[] x = new float[rows * 4];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < 4; j++) {
        x[r * 4 + j] = request + r / 4f + j / 16f;
      }
    }
    return x;
  }
}
