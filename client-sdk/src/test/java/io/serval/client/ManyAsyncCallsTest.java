package io.serval.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * 10,000 asynchronous calls from 8 threads through one client, against a real server that batches them
 * (dynamic batching, up to 8 rows): every answer must be its own request's {@code 2x + 1}, never a neighbour's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ManyAsyncCallsTest {
  private static final int THREADS = 8;
  private static final int CALLS = 10_000;
  /** Calls in flight at once, under the server's in-flight budget. */
  private static final int IN_FLIGHT = 64;

  private RealServer server;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Path repo = RealServer.testModel(Files.createDirectories(dir.resolve("models")), "affine",
        "max_batch_size: 8\ndynamic_batching: {max_queue_delay_microseconds: 500}\n");
    server = RealServer.start(repo.toString());
  }

  @AfterAll
  void stop() {
    server.close();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void everyAnswerMatchesItsOwnRequest(Transport transport) throws Exception {
    try (ServalClient client = ServalClient.builder().transport(transport).endpoint(server.endpoint(transport))
        .build()) {
      Semaphore inFlight = new Semaphore(IN_FLIGHT);
      AtomicInteger correct = new AtomicInteger();
      ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
      ExecutorService threads = Executors.newFixedThreadPool(THREADS);
      List<Future<List<CompletableFuture<Void>>>> submitted = new ArrayList<>();
      for (int thread = 0; thread < THREADS; thread++) {
        int first = thread * (CALLS / THREADS);
        submitted.add(threads.submit(() -> {
          List<CompletableFuture<Void>> calls = new ArrayList<>();
          for (int call = first; call < first + CALLS / THREADS; call++) {
            // Non-negative and under 10,000: the test engine reads negative values and 10,001+ as commands.
            float[] row = {call, call + 0.5f, call / 2f + 0.25f, call / 4f};
            String id = Integer.toString(call);
            inFlight.acquire();
            calls.add(client.inferAsync(InferRequest.builder("affine").id(id)
                    .input(InferTensor.ofFloats("x", new long[] {1, 4}, row)).build())
                .thenAccept(result -> {
                  float[] y = result.output("y").toFloatArray();
                  boolean matches = result.id().equals(id) && y.length == 4;
                  for (int i = 0; matches && i < 4; i++) {
                    matches = y[i] == 2 * row[i] + 1;
                  }
                  if (matches) {
                    correct.incrementAndGet();
                  } else {
                    wrong.add(id);
                  }
                })
                .whenComplete((ignored, failure) -> inFlight.release()));
          }
          return calls;
        }));
      }
      for (Future<List<CompletableFuture<Void>>> thread : submitted) {
        CompletableFuture.allOf(thread.get(120, TimeUnit.SECONDS).toArray(CompletableFuture[]::new))
            .get(120, TimeUnit.SECONDS);
      }
      threads.shutdown();
      assertThat(wrong).isEmpty();
      assertThat(correct.get()).isEqualTo(CALLS);
    }
  }
}
