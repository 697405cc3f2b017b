package io.serval.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One client over two real servers: calls are spread over both, and when one shuts down mid-run the health
 * checks and retries route around it with no failed call.
 */
class LoadBalancingTest {
  private static final int THREADS = 4;
  private static final int CALLS_PER_THREAD = 150;
  private static final int CALLS_BEFORE_SHUTDOWN = 200;

  @ParameterizedTest
  @EnumSource(Transport.class)
  void spreadsCallsOverTwoServersAndRoutesAroundOneThatGoesDown(Transport transport, @TempDir Path dir)
      throws Exception {
    Path repo = RealServer.testModel(Files.createDirectories(dir.resolve("models")), "affine",
        "max_batch_size: 8\n");
    RealServer first = RealServer.start(repo.toString());
    boolean firstClosed = false;
    try (RealServer second = RealServer.start(repo.toString());
        ServalClient client = ServalClient.builder()
            .transport(transport)
            .endpoint(first.endpoint(transport))
            .endpoint(second.endpoint(transport))
            .healthCheck(Duration.ofMillis(200))
            .maxAttempts(5)
            .retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
            .build()) {
      CountDownLatch enoughCalls = new CountDownLatch(CALLS_BEFORE_SHUTDOWN);
      ExecutorService threads = Executors.newFixedThreadPool(THREADS);
      List<Future<Integer>> answered = new ArrayList<>();
      for (int thread = 0; thread < THREADS; thread++) {
        int base = thread * CALLS_PER_THREAD;
        answered.add(threads.submit(() -> {
          int correct = 0;
          for (int i = 0; i < CALLS_PER_THREAD; i++) {
            float value = base + i;
            InferResult result = client.infer(InferRequest.builder("affine")
                .input(InferTensor.ofFloats("x", new long[] {1, 4}, value, value, value, value)).build());
            if (result.output("y").toFloatArray()[3] == 2 * value + 1) {
              correct++;
            }
            enoughCalls.countDown();
          }
          return correct;
        }));
      }
      assertThat(enoughCalls.await(60, TimeUnit.SECONDS)).isTrue();
      long servedByFirst = served(first, transport);
      first.close();
      firstClosed = true;

      int correct = 0;
      for (Future<Integer> thread : answered) {
        correct += thread.get(60, TimeUnit.SECONDS);
      }
      threads.shutdown();
      assertThat(correct).isEqualTo(THREADS * CALLS_PER_THREAD);
      long servedBySecond = served(second, transport);
      assertThat(servedByFirst).as("calls the first server answered before it went down").isPositive();
      assertThat(servedBySecond).as("calls the second server answered")
          .isGreaterThanOrEqualTo(THREADS * CALLS_PER_THREAD - CALLS_BEFORE_SHUTDOWN - THREADS);
    } finally {
      if (!firstClosed) {
        first.close();
      }
    }
  }

  /** Successful inferences of {@code affine} on one server, read through a client of its own. */
  private static long served(RealServer server, Transport transport) {
    try (ServalClient direct = ServalClient.builder().transport(transport).endpoint(server.endpoint(transport))
        .build()) {
      return direct.modelStatistics("affine").getModelStats(0).getInferenceStats().getSuccess().getCount();
    }
  }
}
