package io.serval.benchmarks;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The floor under {@link ExecutorOverheadBenchmark}: one empty task handed to the pipelines' threads and waited
 * for ({@code CompletableFuture.supplyAsync(..., nodes).join()}), with 1 and 16 callers at once. A pipeline
 * request makes at least this hop; what it costs beyond it is the executor's own work.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ExecutorHopBenchmark {
  private ExecutorService nodes;

  @Setup
  public void start() {
    nodes = PipelineRuns.nodeThreads();
  }

  @TearDown
  public void stop() {
    nodes.shutdown();
  }

  @Benchmark
  @Threads(1)
  public Object threads1() {
    return CompletableFuture.supplyAsync(() -> nodes, nodes).join();
  }

  @Benchmark
  @Threads(16)
  public Object threads16() {
    return CompletableFuture.supplyAsync(() -> nodes, nodes).join();
  }
}
