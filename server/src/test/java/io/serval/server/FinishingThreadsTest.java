package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.InferenceRequest;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue [3 of 10]: answers were finished and encoded on the instance worker, so a batch of N delayed the next
 * batch by N encodes. The engine runs on the version's worker; finishing and encoding run where the front end says.
 */
class FinishingThreadsTest {
  @TempDir static Path repository;
  private static InProcessServing serving;
  private static ExecutorService frontEnd;

  @BeforeAll
  static void load() throws Exception {
    TestRepositories.affineModel(repository, "affine", "max_batch_size: 8\ndynamic_batching: {}\n");
    serving = InProcessServing.load(repository, 0);
    frontEnd = Executors.newSingleThreadExecutor(runnable -> new Thread(runnable, "front-end-encoder"));
  }

  @AfterAll
  static void close() {
    frontEnd.shutdown();
    serving.close();
  }

  @Test
  void encodesOnTheFrontEndsExecutorNeverOnTheInstanceWorker() throws Exception {
    InferenceRequest request = new InferenceRequest("", Map.of(),
        List.of(Tensor.ofFloats("x", new long[] {1, 4}, new float[4])), null, true, 0, MemoryScope.open());

    String encodedOn = serving.inference.infer(serving.inference.resolve("affine", ""), request, frontEnd,
        result -> Thread.currentThread().getName()).get(10, TimeUnit.SECONDS);

    assertThat(encodedOn).isEqualTo("front-end-encoder");
  }
}
