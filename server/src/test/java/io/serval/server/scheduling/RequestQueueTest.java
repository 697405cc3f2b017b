package io.serval.server.scheduling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.core.DeadlineExceededException;
import io.serval.core.MemoryScope;
import io.serval.core.OverloadedException;
import io.serval.core.SchedulingClock;
import io.serval.core.Tensor;
import io.serval.server.config.BatchingConfig;
import io.serval.server.config.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch former and queue policy, driven directly: no threads, no timing. */
class RequestQueueTest {
  @TempDir Path dir;

  @Test
  void servesHigherPriorityFirstAndFifoWithinAPriority() throws Exception {
    RequestQueue queue = queue("max_batch_size: 1\ndynamic_batching:\n  priority_levels: 2\n  default_priority_level: 2\n", 1);
    Job low1 = job(queue, 1, 0);
    Job low2 = job(queue, 1, 2);
    Job high = job(queue, 1, 1);
    for (Job job : List.of(low1, low2, high)) {
      queue.offer(job);
    }

    assertThat(queue.nextBatch()).containsExactly(high);
    assertThat(queue.nextBatch()).containsExactly(low1);
    assertThat(queue.nextBatch()).containsExactly(low2);
  }

  @Test
  void mergesOnlyRequestsWhoseOtherDimensionsMatchUpToMaxBatchSize() throws Exception {
    RequestQueue queue = queue("max_batch_size: 4\ndynamic_batching: {}\n", 4);
    Job a = job(queue, 3, 0);
    Job wide = new Job(
        List.of(Tensor.ofFloats("x", new long[] {1, 8}, new float[8])), List.of("y"), 1, 0, System.nanoTime(), 0, 0,
        MemoryScope.open());
    Job b = job(queue, 2, 0);
    Job c = job(queue, 1, 0);
    for (Job job : List.of(a, wide, b, c)) {
      queue.offer(job);
    }

    assertThat(queue.nextBatch()).containsExactly(a, c);
    assertThat(queue.nextBatch()).containsExactly(wide);
    assertThat(queue.nextBatch()).containsExactly(b);
  }

  @Test
  void rejectsOnceMaxQueueSizeRequestsWait() {
    RequestQueue queue = queue("max_batch_size: 1\ndynamic_batching:\n  default_queue_policy:\n    max_queue_size: 2\n", 1);
    queue.offer(job(queue, 1, 0));
    queue.offer(job(queue, 1, 0));

    assertThatThrownBy(() -> queue.offer(job(queue, 1, 0)))
        .isInstanceOf(OverloadedException.class)
        .hasMessage("m v1: the queue is full (2 requests waiting, max_queue_size 2); retry later");
  }

  @Test
  void failsATimedOutRequestWithoutRunningIt() throws Exception {
    RequestQueue queue = queue("max_batch_size: 1\ndynamic_batching: {}\n", 1);
    Job late = job(queue, 1, 0);
    Job next = job(queue, 1, 0);
    queue.offer(late);
    queue.offer(next);

    queue.timedOut(late);

    assertThat(late.future).isCompletedExceptionally();
    assertThatThrownBy(late.future::get).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(DeadlineExceededException.class);
    assertThat(queue.nextBatch()).containsExactly(next);
    assertThat(queue.size()).isZero();
  }

  @Test
  void delaysATimedOutRequestBehindEveryOtherWhenTheActionIsDelay() throws Exception {
    RequestQueue queue = queue("max_batch_size: 1\ndynamic_batching:\n  priority_levels: 2\n  default_priority_level: 1\n"
        + "  default_queue_policy:\n    timeout_action: DELAY\n", 1);
    Job late = job(queue, 1, 1);
    Job low = job(queue, 1, 2);
    queue.offer(late);
    queue.offer(low);

    queue.timedOut(late);

    assertThat(late.future).isNotDone();
    assertThat(queue.nextBatch()).containsExactly(low);
    assertThat(queue.nextBatch()).containsExactly(late);
  }

  @Test
  void removesACancelledRequest() throws Exception {
    RequestQueue queue = queue("max_batch_size: 1\ndynamic_batching: {}\n", 1);
    Job cancelled = job(queue, 1, 0);
    Job kept = job(queue, 1, 0);
    queue.offer(cancelled);
    queue.offer(kept);

    assertThat(queue.remove(cancelled)).isTrue();

    assertThat(queue.size()).isEqualTo(1);
    assertThat(queue.nextBatch()).containsExactly(kept);
    assertThat(queue.remove(cancelled)).isFalse();
  }

  @Test
  void takesABatchAtOnceWhenItReachesTheLargestPreferredSize() throws Exception {
    RequestQueue queue = queue("max_batch_size: 8\ndynamic_batching:\n  preferred_batch_sizes: [2]\n"
        + "  max_queue_delay_microseconds: 60000000\n", 8);
    Job a = job(queue, 1, 0);
    Job b = job(queue, 1, 0);
    queue.offer(a);
    queue.offer(b);

    // With a one-minute delay, only reaching the preferred size lets this return.
    assertThat(queue.nextBatch()).containsExactly(a, b);
  }

  private RequestQueue queue(String yaml, int maxBatchSize) {
    try {
      Path model = Files.createDirectories(dir.resolve("m" + System.nanoTime()));
      Files.writeString(model.resolve("config.yaml"), yaml);
      BatchingConfig batching = ModelConfig.read(model).batching();
      return new RequestQueue("m v1", batching, maxBatchSize, SchedulingClock.system());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static Job job(RequestQueue queue, int rows, int priority) {
    return new Job(List.of(Tensor.ofFloats("x", new long[] {rows, 4}, new float[rows * 4])), List.of("y"), rows,
        queue.laneOf(priority), System.nanoTime(), 0, 0, MemoryScope.open());
  }
}
