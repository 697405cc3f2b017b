package io.serval.loadtest;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a model with ONNX Runtime's Java API in this process, set up as Serval sets it up (one shared intra-op pool
 * of {@code threads} threads, one session that runs one call at a time), and prints per concurrency the
 * throughput and latency percentiles as CSV. It measures what the engine alone can do, so the served numbers can
 * be read as a ratio against it.
 *
 * <pre>
 * java -jar loadtest/target/serval-loadtest-*.jar MODEL.onnx INPUT SHAPE(3,48,192 comma-separated, batch first)
 *     THREADS CONCURRENCIES(1,4,16) SECONDS
 * </pre>
 */
public final class RawOnnxRuntimeBenchmark {
  private RawOnnxRuntimeBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: RawOnnxRuntimeBenchmark MODEL INPUT SHAPE THREADS CONCURRENCIES SECONDS");
      System.exit(2);
    }
    String model = args[0];
    String input = args[1];
    long[] shape = Arrays.stream(args[2].split(",")).mapToLong(Long::parseLong).toArray();
    int threads = Integer.parseInt(args[3]);
    int[] concurrencies = Arrays.stream(args[4].split(",")).mapToInt(Integer::parseInt).toArray();
    int seconds = Integer.parseInt(args[5]);

    OrtEnvironment environment;
    try (OrtEnvironment.ThreadingOptions threading = new OrtEnvironment.ThreadingOptions()) {
      threading.setGlobalIntraOpNumThreads(threads);
      threading.setGlobalInterOpNumThreads(1);
      threading.setGlobalSpinControl(false);
      environment = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "bench", threading);
    }
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.disablePerSessionThreads();
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      try (OrtSession session = environment.createSession(model, options)) {
        float[] data = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < data.length; i++) {
          data[i] = (float) Math.sin(i);
        }
        System.out.println("concurrency,infer_per_sec,p50_us,p90_us,p99_us");
        for (int concurrency : concurrencies) {
          run(environment, session, input, shape, data, concurrency, 2);
          double[] result = run(environment, session, input, shape, data, concurrency, seconds);
          System.out.printf(Locale.ROOT, "%d,%.1f,%.0f,%.0f,%.0f%n",
              concurrency, result[0], result[1], result[2], result[3]);
        }
      }
    }
  }

  /** Runs {@code concurrency} callers for {@code seconds}; returns throughput and p50/p90/p99 in microseconds. */
  private static double[] run(OrtEnvironment environment, OrtSession session, String input, long[] shape,
      float[] data, int concurrency, int seconds) throws InterruptedException {
    AtomicBoolean running = new AtomicBoolean(true);
    List<long[]> perThread = new ArrayList<>();
    List<Thread> callers = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(concurrency);
    // A fair lock: callers take turns in arrival order, as requests do in a Serval instance's queue.
    ReentrantLock instance = new ReentrantLock(true);
    for (int t = 0; t < concurrency; t++) {
      long[] latencies = new long[2_000_000];
      perThread.add(latencies);
      Thread caller = new Thread(() -> {
        int n = 0;
        try {
          while (running.get() && n < latencies.length) {
            long start = System.nanoTime();
            // One session runs one call at a time, as a Serval instance does.
            instance.lock();
            try (OnnxTensor tensor = OnnxTensor.createTensor(environment, FloatBuffer.wrap(data), shape);
                OrtSession.Result result = session.run(Map.of(input, tensor))) {
              result.get(0).getValue();
            } finally {
              instance.unlock();
            }
            latencies[n++] = System.nanoTime() - start;
          }
        } catch (OrtException e) {
          throw new IllegalStateException(e);
        } finally {
          latencies[latencies.length - 1] = n;
          done.countDown();
        }
      });
      callers.add(caller);
    }
    long started = System.nanoTime();
    callers.forEach(Thread::start);
    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
    running.set(false);
    done.await();
    double elapsed = (System.nanoTime() - started) / 1e9;
    int total = 0;
    for (long[] latencies : perThread) {
      total += (int) latencies[latencies.length - 1];
    }
    long[] all = new long[total];
    int at = 0;
    for (long[] latencies : perThread) {
      int n = (int) latencies[latencies.length - 1];
      System.arraycopy(latencies, 0, all, at, n);
      at += n;
    }
    Arrays.sort(all);
    return new double[] {
      total / elapsed, percentile(all, 0.50) / 1e3, percentile(all, 0.90) / 1e3, percentile(all, 0.99) / 1e3
    };
  }

  private static double percentile(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
  }
}
