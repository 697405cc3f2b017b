package io.serval.loadtest;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One level of load (a concurrency or a rate): an unmeasured warm-up, then a measured window. Latency is taken
 * from the moment a request was due to the moment it was answered: in the open loop that is its scheduled arrival,
 * not when the client got round to sending it, so a stalled server cannot hide its queue (no coordinated omission).
 * Only requests answered inside the window count; failures are counted by kind and kept out of the latencies.
 */
final class LoadRun {
  /** One second of the measured window. */
  record Second(int second, long requests, long errors, long p50Micros, long p99Micros) {}

  /** What one level measured. */
  record Result(
      String mode,
      double level,
      double seconds,
      long requests,
      long sent,
      Map<String, Long> errors,
      Map<String, String> errorExamples,
      Histogram latencyMicros,
      List<Second> timeline,
      long unanswered) {

    double requestsPerSecond() {
      return requests / seconds;
    }

    long errorCount() {
      return errors.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private static final Executor RESEND = ForkJoinPool.commonPool();

  private final List<Target.Call> calls;
  private final LoadOptions options;
  private final double level;
  private final PrintStream progress;
  private final AtomicLong nextSample = new AtomicLong();
  private final AtomicInteger outstanding = new AtomicInteger();
  private final AtomicLong issued = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private final Recorder recorder = new Recorder(3);
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final Map<String, String> errorExamples = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> allAnswered = new CompletableFuture<>();
  private volatile boolean issuing;
  /** Bumped by each start, so that an arrival thread of the warm-up cannot send into the measured window. */
  private volatile int phase;
  private volatile boolean recording;
  private volatile long limit;

  LoadRun(List<Target.Call> calls, LoadOptions options, double level, PrintStream progress) {
    this.calls = List.copyOf(calls);
    this.options = options;
    this.level = level;
    this.progress = progress;
  }

  Result run() throws InterruptedException {
    if (!options.warmup().isZero()) {
      start(false, 0);
      LockSupport.parkNanos(options.warmup().toNanos());
      stop();
      awaitQuiet();
      errors.clear();
      errorExamples.clear();
    }
    recorder.reset();
    long started = start(true, options.requests());
    Histogram total = new Histogram(3);
    Histogram interval = null;
    List<Second> timeline = new ArrayList<>();
    long windowNanos = options.requests() > 0 ? Long.MAX_VALUE : options.duration().toNanos();
    long errorsBefore = 0;
    int second = 0;
    long now = System.nanoTime();
    while (now - started < windowNanos && !allAnswered.isDone()) {
      long tick = started + (second + 1) * 1_000_000_000L;
      long end = Math.min(tick, windowNanos == Long.MAX_VALUE ? Long.MAX_VALUE : started + windowNanos);
      while ((now = System.nanoTime()) < end && !allAnswered.isDone()) {
        LockSupport.parkNanos(Math.min(end - now, 10_000_000L));
      }
      if (now >= tick) {
        interval = recorder.getIntervalHistogram(interval);
        total.add(interval);
        long errorsNow = errorTotal();
        second++;
        timeline.add(new Second(second, interval.getTotalCount(), errorsNow - errorsBefore,
            interval.getValueAtPercentile(50), interval.getValueAtPercentile(99)));
        errorsBefore = errorsNow;
        printProgress(second, interval, errorsNow);
      }
    }
    recording = false;
    long ended = System.nanoTime();
    stop();
    total.add(recorder.getIntervalHistogram(interval));
    long unanswered = awaitQuiet();
    if (System.console() != null && !options.quiet()) {
      progress.println();
    }
    Map<String, Long> counted = new TreeMap<>();
    errors.forEach((kind, count) -> counted.put(kind, count.sum()));
    return new Result(options.mode().key(), level, (ended - started) / 1e9, total.getTotalCount(),
        issued.get(), counted, new TreeMap<>(errorExamples), total, List.copyOf(timeline), unanswered);
  }

  private long start(boolean measure, long requestLimit) {
    issued.set(0);
    answered.set(0);
    limit = requestLimit;
    recording = measure;
    issuing = true;
    long started = System.nanoTime();
    if (options.mode() == LoadOptions.Mode.CONCURRENCY) {
      for (int i = 0; i < (int) level; i++) {
        sendNext();
      }
    } else {
      int thisPhase = ++phase;
      Thread arrivals = new Thread(() -> arrive(started, thisPhase), "serval-load-arrivals");
      arrivals.setDaemon(true);
      arrivals.start();
    }
    return started;
  }

  private void stop() {
    issuing = false;
  }

  /** Closed loop: one virtual client's next request, sent when its previous one is answered. */
  private void sendNext() {
    if (!issuing || !take()) {
      return;
    }
    long due = System.nanoTime();
    outstanding.incrementAndGet();
    CompletableFuture<Void> answer = call().send();
    if (answer.isDone()) { // answered at once (a refused connection): go round without growing the stack
      RESEND.execute(() -> {
        answered(due, answer);
        sendNext();
      });
    } else {
      answer.whenComplete((ignored, error) -> {
        answered(due, answer);
        sendNext();
      });
    }
  }

  /** Open loop: Poisson arrivals at {@code level} per second, each sent when due. */
  private void arrive(long started, int thisPhase) {
    Random random = new Random(options.seed());
    double meanGapNanos = 1e9 / level;
    long due = started;
    while (issuing && phase == thisPhase) {
      due += (long) (-Math.log(1 - random.nextDouble()) * meanGapNanos);
      long wait;
      while (issuing && (wait = due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(Math.min(wait, 50_000_000L));
      }
      if (!issuing || phase != thisPhase || !take()) {
        return;
      }
      if (outstanding.get() >= options.maxOutstanding()) {
        failed(new RequestFailure("dropped", "more than --max-outstanding " + options.maxOutstanding()
            + " requests in flight: the arrival was not sent"));
        continue;
      }
      outstanding.incrementAndGet();
      long arrival = due;
      CompletableFuture<Void> answer = call().send();
      answer.whenComplete((ignored, error) -> answered(arrival, answer));
    }
  }

  /** Counts one more request against {@code --requests}, if given; false once they have all been sent. */
  private boolean take() {
    if (limit != 0 && issued.incrementAndGet() > limit) {
      issued.decrementAndGet();
      return false;
    }
    if (limit == 0) {
      issued.incrementAndGet();
    }
    return true;
  }

  private Target.Call call() {
    return calls.get((int) (nextSample.getAndIncrement() % calls.size()));
  }

  private void answered(long due, CompletableFuture<Void> answer) {
    long micros = Math.max(1, (System.nanoTime() - due) / 1000);
    outstanding.decrementAndGet();
    if (!recording) {
      return;
    }
    if (answer.isCompletedExceptionally()) {
      failed(answer.handle((v, e) -> e).join());
    } else {
      recorder.recordValue(micros);
    }
    if (limit > 0 && answered.incrementAndGet() >= limit) {
      allAnswered.complete(null);
    }
  }

  private void failed(Throwable error) {
    if (!recording) {
      return;
    }
    RequestFailure failure = RequestFailure.of(error);
    errors.computeIfAbsent(failure.kind(), k -> new LongAdder()).increment();
    String message = failure.getMessage() == null ? "" : failure.getMessage().strip();
    errorExamples.putIfAbsent(failure.kind(), message.length() > 300 ? message.substring(0, 300) + "..." : message);
  }

  private long errorTotal() {
    return errors.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** Waits for requests still in flight (up to the request timeout); returns how many never came back. */
  private long awaitQuiet() throws InterruptedException {
    long deadline = System.nanoTime() + options.timeout().plus(Duration.ofSeconds(5)).toNanos();
    while (outstanding.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    return outstanding.get();
  }

  private void printProgress(int second, Histogram interval, long errorCount) {
    if (options.quiet()) {
      return;
    }
    String of = options.requests() > 0 ? answered.get() + "/" + options.requests() + " requests"
        : second + "s/" + options.duration().toSeconds() + "s";
    String line = String.format(Locale.ROOT, "%s %s | %s | %,.0f infer/s | p50 %.2f ms | p99 %.2f ms | errors %d",
        options.mode().key(), Reports.level(level), of, (double) interval.getTotalCount() * options.batch(),
        interval.getValueAtPercentile(50) / 1000.0, interval.getValueAtPercentile(99) / 1000.0, errorCount);
    if (System.console() != null) {
      progress.print("\r" + line + "   ");
    } else {
      progress.println(line);
    }
    progress.flush();
  }
}
