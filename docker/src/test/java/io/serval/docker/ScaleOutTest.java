package io.serval.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.ServalClient;
import io.serval.client.ServalClientBuilder;
import io.serval.client.Transport;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scale-out as on Kubernetes, with the SDK's client-side balancing as the load balancer: three replicas of the
 * image, each with its own repository volume and its own published port, behind one client that spreads calls over
 * them and health-checks each on {@code /v2/health/ready}, while callers keep calling the model {@value #MODEL}.
 * No call may fail, and every answer must be the right one, while a new version of the model is rolled out to the
 * replicas one by one, and while every replica is replaced by a new container one by one (a rolling update).
 */
@Tag("docker")
class ScaleOutTest {
  private static final int REPLICAS = 3;
  private static final int CALLERS = 4;
  private static final String MODEL = "rollout";
  private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);
  private static final int STOP_TIMEOUT_SECONDS = 40;
  private static final Duration HEALTH_CHECK_INTERVAL = Duration.ofMillis(200);

  @TempDir
  Path volumes;

  private String image;
  private final List<Path> repositories = new ArrayList<>();
  private final List<Integer> ports = new ArrayList<>();
  private final List<ServalContainer> replicas = new ArrayList<>();

  @BeforeEach
  void startReplicas() throws Exception {
    image = ServalImage.build();
    for (int i = 0; i < REPLICAS; i++) {
      Path repository = Files.createDirectory(volumes.resolve("replica-" + i));
      Models.copyInto(repository, "digits", MODEL);
      repositories.add(repository);
      ports.add(freePort());
      replicas.add(replica(i));
    }
    replicas.parallelStream().forEach(ServalContainer::start);
  }

  @AfterEach
  void stopReplicas() {
    replicas.forEach(ServalContainer::stop);
  }

  @Test
  void rollsANewVersionOutToEveryReplicaWithNoFailedCall() throws Exception {
    try (Traffic traffic = new Traffic(balancedClient())) {
      for (int i = 0; i < REPLICAS; i++) {
        Models.addVersion(repositories.get(i), MODEL, "digits", 2);
        try (ServalClient direct = replicas.get(i).client(Transport.GRPC)) {
          await("replica " + i + " serving version 2 alone").atMost(STEP_TIMEOUT)
              .pollInterval(Duration.ofMillis(100)).until(() ->
                  direct.infer(traffic.request).modelVersion().equals("2") && !direct.isModelReady(MODEL, "1"));
        }
      }
      long duringRollout = traffic.answersSinceLastAsked();
      traffic.awaitAnswers(200);
      traffic.stop();

      assertThat(traffic.failures).as("failed or wrong calls").isEmpty();
      assertThat(traffic.versionsSinceLastAsked()).as("versions answering after the rollout").containsOnly("2");
      for (int i = 0; i < REPLICAS; i++) {
        assertThat(answeredInVersion2(i)).as("calls replica %d answered in version 2", i).isPositive();
      }
      System.out.printf("scale-out, version rollout: %d calls answered while 3 replicas took version 2, none"
          + " failed%n", duringRollout);
    }
  }

  @Test
  void replacesEveryReplicaOneByOneWithNoFailedCall() throws Exception {
    try (Traffic traffic = new Traffic(balancedClient())) {
      for (int i = 0; i < REPLICAS; i++) {
        ServalContainer old = replicas.get(i);
        old.getDockerClient().stopContainerCmd(old.getContainerId()).withTimeout(STOP_TIMEOUT_SECONDS).exec();
        old.stop();
        // The new release of the replica comes with the new version of the model in its volume.
        Models.addVersion(repositories.get(i), MODEL, "digits", 2);
        ServalContainer replacement = replica(i);
        replicas.set(i, replacement);
        replacement.start();
        long before = traffic.answersSinceLastAsked();
        await("calls answered by replica " + i + "'s replacement").atMost(STEP_TIMEOUT)
            .pollInterval(Duration.ofMillis(200)).until(() -> answeredInVersion2(replicas.indexOf(replacement)) > 0);
        System.out.printf("scale-out, rolling update: replica %d replaced, %d calls answered meanwhile%n", i,
            before);
      }
      traffic.answersSinceLastAsked();
      traffic.awaitAnswers(200);
      traffic.stop();

      assertThat(traffic.failures).as("failed or wrong calls").isEmpty();
      assertThat(traffic.versionsSinceLastAsked()).as("versions answering after the update").containsOnly("2");
    }
  }

  private ServalContainer replica(int index) throws IOException {
    ServalContainer replica = new ServalContainer(image).withRepository(repositories.get(index));
    replica.setPortBindings(List.of(ports.get(index) + ":" + ServalContainer.HTTP));
    return replica;
  }

  /**
   * One client over the replicas' published ports. A replica that got SIGTERM refuses new calls (UNAVAILABLE) until
   * the health check drops it, so the retries' backoff outlasts the health check's interval: a refused call is
   * tried again once the stopping replica is out of the rotation (with the SDK's default 100 ms backoff, three
   * attempts could all land within one interval; on Kubernetes the Deployment's preStop sleep does this part).
   */
  private ServalClient balancedClient() {
    ServalClientBuilder builder = ServalClient.builder().transport(Transport.GRPC).healthCheck(HEALTH_CHECK_INTERVAL)
        .maxAttempts(4).retryBackoff(HEALTH_CHECK_INTERVAL.multipliedBy(2), Duration.ofSeconds(1));
    // Serval serves gRPC on its HTTP port too, so one published port per replica carries calls and health checks.
    ports.forEach(port -> builder.endpoint("localhost", port));
    return builder.build();
  }

  private long answeredInVersion2(int replica) {
    try (ServalClient direct = replicas.get(replica).client(Transport.GRPC)) {
      return direct.modelStatistics(MODEL, "2").getModelStatsList().stream()
          .mapToLong(stats -> stats.getInferenceStats().getSuccess().getCount()).sum();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Callers calling the model through one client, each answer checked against the golden probabilities. */
  private static final class Traffic implements AutoCloseable {
    final InferRequest request = DigitsGolden.request(MODEL);
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final Map<String, AtomicLong> answersByVersion = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
    private final ServalClient client;

    Traffic(ServalClient client) throws IOException {
      this.client = client;
      float[] expected = DigitsGolden.probabilities();
      for (int i = 0; i < CALLERS; i++) {
        callers.submit(() -> {
          while (running.get()) {
            try {
              InferResult result = client.infer(request);
              assertThat(result.output("probabilities").toFloatArray())
                  .containsExactly(expected, within(DigitsGolden.TOLERANCE));
              answersByVersion.computeIfAbsent(result.modelVersion(), v -> new AtomicLong()).incrementAndGet();
            } catch (RuntimeException | AssertionError e) {
              failures.add(e.toString());
            }
          }
        });
      }
    }

    /** The answers counted since this was last asked (or since the callers started); starts the count over. */
    long answersSinceLastAsked() {
      long answers = answersByVersion.values().stream().mapToLong(AtomicLong::get).sum();
      answersByVersion.clear();
      return answers;
    }

    /** The versions that answered since {@link #answersSinceLastAsked} was last asked. */
    Set<String> versionsSinceLastAsked() {
      return Map.copyOf(answersByVersion).keySet();
    }

    void awaitAnswers(long count) {
      await("answers").atMost(Duration.ofSeconds(30))
          .until(() -> answersByVersion.values().stream().mapToLong(AtomicLong::get).sum() >= count);
    }

    void stop() throws InterruptedException {
      running.set(false);
      callers.shutdown();
      assertThat(callers.awaitTermination(30, TimeUnit.SECONDS)).as("callers stopped").isTrue();
    }

    @Override
    public void close() throws InterruptedException {
      stop();
      client.close();
    }
  }
}
