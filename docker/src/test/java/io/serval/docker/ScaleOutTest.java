package io.serval.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.ServalClient;
import io.serval.client.ServalClientBuilder;
import io.serval.client.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scale-out as on Kubernetes, with the SDK's client-side balancing as the load balancer: three replicas of the
 * image, each with its own repository volume, behind one client that spreads calls over them and health-checks
 * each on {@code /v2/health/ready}. A new version of a model is rolled out to the replicas one by one (copied into
 * each volume, the next replica only once the last serves it) while callers keep calling: no call may fail, and
 * every answer must be the right one.
 */
@Tag("docker")
class ScaleOutTest {
  private static final int REPLICAS = 3;
  private static final int CALLERS = 4;
  private static final String MODEL = "rollout";
  private static final Duration ROLLOUT_STEP_TIMEOUT = Duration.ofSeconds(30);

  @TempDir
  Path volumes;

  @Test
  void rollsANewVersionOutToEveryReplicaWithNoFailedCall() throws Exception {
    String image = ServalImage.build();
    float[] expected = DigitsGolden.probabilities();
    InferRequest request = DigitsGolden.request(MODEL);
    List<ServalContainer> replicas = new ArrayList<>();
    List<Path> repositories = new ArrayList<>();
    try {
      for (int i = 0; i < REPLICAS; i++) {
        Path repository = Files.createDirectory(volumes.resolve("replica-" + i));
        Models.copyInto(repository, "digits", MODEL);
        ServalContainer replica = new ServalContainer(image).withRepository(repository);
        replicas.add(replica);
        repositories.add(repository);
      }
      replicas.parallelStream().forEach(ServalContainer::start);

      ServalClientBuilder balanced = ServalClient.builder().transport(Transport.GRPC)
          .healthCheck(Duration.ofSeconds(1));
      replicas.forEach(replica -> balanced.endpoint(replica.endpoint(ServalContainer.HTTP)));
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      Map<String, AtomicLong> answersByVersion = new ConcurrentHashMap<>();
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
      try (ServalClient client = balanced.build()) {
        for (int i = 0; i < CALLERS; i++) {
          callers.submit(() -> {
            while (running.get()) {
              try {
                InferResult result = client.infer(request);
                float[] probabilities = result.output("probabilities").toFloatArray();
                assertThat(probabilities).containsExactly(expected, within(DigitsGolden.TOLERANCE));
                answersByVersion.computeIfAbsent(result.modelVersion(), v -> new AtomicLong()).incrementAndGet();
              } catch (RuntimeException | AssertionError e) {
                failures.add(e.toString());
              }
            }
          });
        }

        for (int i = 0; i < REPLICAS; i++) {
          Models.addVersion(repositories.get(i), MODEL, "digits", 2);
          try (ServalClient direct = replicas.get(i).client(Transport.GRPC)) {
            await("replica " + i + " serving version 2 alone").atMost(ROLLOUT_STEP_TIMEOUT)
                .pollInterval(Duration.ofMillis(100))
                .until(() -> direct.infer(request).modelVersion().equals("2") && !direct.isModelReady(MODEL, "1"));
          }
        }
        long answeredDuringRollout = answersByVersion.values().stream().mapToLong(AtomicLong::get).sum();
        answersByVersion.clear();
        await("answers after the rollout").atMost(Duration.ofSeconds(10))
            .until(() -> answersByVersion.values().stream().mapToLong(AtomicLong::get).sum() >= 200);
        running.set(false);
        callers.shutdown();
        assertThat(callers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

        assertThat(failures).as("failed or wrong calls").isEmpty();
        assertThat(answersByVersion.keySet()).as("versions answering after the rollout").containsExactly("2");
        for (int i = 0; i < REPLICAS; i++) {
          try (ServalClient direct = replicas.get(i).client(Transport.GRPC)) {
            long served = direct.modelStatistics(MODEL).getModelStatsList().stream()
                .mapToLong(stats -> stats.getInferenceStats().getSuccess().getCount()).sum();
            assertThat(served).as("calls replica %d answered since version 2 loaded", i).isPositive();
          }
        }
        System.out.printf("scale-out: %d calls answered during the rollout to %d replicas, none failed%n",
            answeredDuringRollout, REPLICAS);
      }
    } finally {
      replicas.forEach(ServalContainer::stop);
    }
  }
}
