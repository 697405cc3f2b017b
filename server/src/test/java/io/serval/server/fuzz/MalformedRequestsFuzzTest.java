package io.serval.server.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Thousands of malformed requests from {@link FuzzGenerator} against one real server: every answer is a client
 * error naming the problem (or a success, when a mutation left the request valid), never a server error, a hang,
 * a stack trace or a class name; afterwards the server still answers valid requests exactly, and its heap and
 * direct memory are back where they were.
 *
 * <p>Seeded, so a failure replays: the message gives {@code seed=... case=...}, and {@code -Dserval.fuzz.seed=S}
 * runs the same cases again. {@code -Dserval.fuzz.cases=N} sets the total number of cases (default 3,000, split
 * evenly between the five families); {@code loadtest/fuzz-soak.sh} runs far more.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MalformedRequestsFuzzTest {
  static final long SEED = Long.getLong("serval.fuzz.seed", 20261126L);
  static final int CASES = Integer.getInteger("serval.fuzz.cases", 3000);
  static final int THREADS = 4;
  /**
   * How far heap and direct memory may end above the baseline taken after a warm-up run: room for what warms up
   * late (JIT, Armeria's and Netty's caches and pools, Micrometer meters), far below what a leak of one request's
   * tensors per case would leave (the run sends hundreds of megabytes).
   */
  static final long HEAP_TOLERANCE = 48L << 20;
  static final long DIRECT_TOLERANCE = 32L << 20;

  private static FuzzServer server;
  private static FuzzClient client;
  private static MemoryProbe baseline;
  private static ServerErrorLog serverLog;

  @BeforeAll
  static void start() throws Exception {
    server = FuzzServer.start();
    client = new FuzzClient(server);
    serverLog = ServerErrorLog.attach();
    // Warm up every path (and Netty's pools) with other cases of the same generator before the baseline.
    FuzzGenerator warmUp = new FuzzGenerator(SEED + 1);
    FuzzRun.run(warmUp::generate, client, 0, 500, THREADS, 0, line -> { });
    ValidRequests.check(server);
    baseline = MemoryProbe.settle();
  }

  @AfterAll
  static void stop() {
    if (serverLog != null) {
      serverLog.detach();
    }
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Order(1)
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"json", "binary", "headers", "grpc-stub", "grpc-raw"})
  void everyMalformedRequestGetsAClientErrorThatNamesTheProblem(String family) throws Exception {
    FuzzGenerator generator = new FuzzGenerator(SEED);
    int count = CASES / FuzzGenerator.families().size();

    serverLog.reset();

    FuzzRun run = FuzzRun.run(i -> generator.generate(i, family), client, 0, count, THREADS, 0, line -> { });

    System.out.println(family + ": " + run.summary(40));
    System.out.println(family + ": what the server logged at WARN and above: " + FuzzRun.sums(serverLog.counts));
    assertThat(run.cases.sum()).isEqualTo(count);
    assertThat(run.generatorFailures).as("the generator itself failed").isEmpty();
    assertThat(run.findings.values()).as(run.summary(25)).isEmpty();
  }

  @Order(2)
  @Test
  void theServerStillAnswersValidRequestsExactly() throws Exception {
    ValidRequests.check(server);
  }

  @Order(3)
  @Test
  void heapAndDirectMemoryReturnToTheBaseline() {
    MemoryProbe after = MemoryProbe.settle();

    String report = "baseline: " + baseline + "; after the run: " + after;
    System.out.println(report);
    assertThat(after.heapUsed() - baseline.heapUsed()).as(report).isLessThan(HEAP_TOLERANCE);
    assertThat(after.directUsed() - baseline.directUsed()).as(report).isLessThan(DIRECT_TOLERANCE);
  }
}
