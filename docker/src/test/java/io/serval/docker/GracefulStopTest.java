package io.serval.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.serval.client.ServalClient;
import io.serval.client.Transport;
import io.serval.client.services.BuiltInServices;
import io.serval.client.services.OcrResult;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code docker stop} while requests are in flight: the container's JVM gets SIGTERM, the server stops taking
 * requests and answers every one it had accepted before it exits. Callers read the OCR golden page (about a
 * tenth of a second of work each, several queued at once on two cores), so many requests are inside the server
 * when the signal comes.
 */
@Tag("docker")
class GracefulStopTest {
  private static final int CALLERS = 6;
  /** A call started this long before the signal has reached the server: it must be answered. */
  private static final long SENT_BEFORE_STOP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final int STOP_TIMEOUT_SECONDS = 60;
  /** The JVM's exit status after SIGTERM once its shutdown hooks ran (128 + 15); SIGKILL would be 137. */
  private static final long EXIT_ON_SIGTERM = 143;

  private record Call(long startNanos, long endNanos, boolean answered, boolean correct, String failure) {}

  @Test
  void answersEveryAcceptedRequestWhenStopped() throws Exception {
    byte[] page = Files.readAllBytes(ServalImage.MODELS.resolve("ocr/golden/page.png"));
    JsonNode golden = new ObjectMapper().readTree(ServalImage.MODELS.resolve("ocr/golden/page.json").toFile());
    List<String> expected = new ArrayList<>();
    golden.get("text").forEach(line -> expected.add(line.asText()));

    try (ServalContainer container = new ServalContainer(ServalImage.build())) {
      container.start();
      ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
      AtomicBoolean running = new AtomicBoolean(true);
      CountDownLatch warmedUp = new CountDownLatch(CALLERS * 2);
      ExecutorService callers = Executors.newFixedThreadPool(CALLERS);
      // One attempt per call: a retry would hide a request the server dropped.
      try (ServalClient client = ServalClient.builder().transport(Transport.GRPC)
          .endpoint(container.endpoint(ServalContainer.GRPC)).maxAttempts(1).build()) {
        BuiltInServices services = BuiltInServices.of(client);
        for (int i = 0; i < CALLERS; i++) {
          callers.submit(() -> {
            while (running.get()) {
              long start = System.nanoTime();
              try {
                OcrResult result = services.ocr(page);
                List<String> text = result.lines().stream().map(OcrResult.Line::text).toList();
                calls.add(new Call(start, System.nanoTime(), true, text.equals(expected), null));
              } catch (RuntimeException e) {
                calls.add(new Call(start, System.nanoTime(), false, false, e.toString()));
              }
              warmedUp.countDown();
            }
          });
        }
        assertThat(warmedUp.await(60, TimeUnit.SECONDS)).as("every caller answered twice before the stop").isTrue();

        long stopNanos = System.nanoTime();
        container.getDockerClient().stopContainerCmd(container.getContainerId())
            .withTimeout(STOP_TIMEOUT_SECONDS).exec();
        running.set(false);
        callers.shutdown();
        assertThat(callers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

        long exitCode = container.getDockerClient().inspectContainerCmd(container.getContainerId()).exec()
            .getState().getExitCodeLong();
        assertThat(exitCode).as("exit status: SIGTERM handled, not killed after %d s", STOP_TIMEOUT_SECONDS)
            .isEqualTo(EXIT_ON_SIGTERM);

        List<Call> sentBeforeStop = calls.stream()
            .filter(call -> call.startNanos() < stopNanos - SENT_BEFORE_STOP_NANOS).toList();
        List<Call> inFlightAtStop = sentBeforeStop.stream().filter(call -> call.endNanos() > stopNanos).toList();
        assertThat(inFlightAtStop).as("calls inside the server when SIGTERM came").isNotEmpty();
        assertThat(sentBeforeStop).as("calls sent before the stop that were not answered")
            .allSatisfy(call -> assertThat(call.answered()).as(call.failure()).isTrue());
        assertThat(calls).as("answers that differ from the golden page").filteredOn(Call::answered)
            .allSatisfy(call -> assertThat(call.correct()).isTrue());
        System.out.printf("graceful stop: %d calls, %d in flight at SIGTERM (all answered), %d refused after it%n",
            calls.size(), inFlightAtStop.size(), calls.stream().filter(call -> !call.answered()).count());
      }
    }
  }
}
