package io.serval.benchmarks;

import io.serval.core.InferenceResult;
import io.serval.core.Tensor;
import io.serval.dag.InvalidPipelineException;
import io.serval.dag.Pipeline;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The pipeline executor's own cost, per request and per node: pipelines of {@link PassOperator} nodes (each
 * hands its input on as its output), so nothing but the executor does work. Shapes: a chain of 1, 4 and 12 nodes
 * (the slope between them is the cost of one node, the intercept that of the pipeline), and {@code fan8}: 8 nodes
 * reading the input side by side, joined by a ninth; {@code -p shape=chain<N>,fan<N>} runs others. One FP32
 * [1, 16] input, each request in its own memory on the server's kind of node threads ({@link PipelineRuns});
 * average time per request as its caller sees it, with 1 and 16 callers at once. Warmed up for 10 s: with 16
 * callers on 2 cores the compiler takes that long to settle.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 10, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ExecutorOverheadBenchmark {
  @Param({"chain1", "chain4", "chain12", "fan8"})
  public String shape;

  private ExecutorService nodes;
  private Pipeline pipeline;
  private List<Tensor> inputs;

  @Setup
  public void start() throws InvalidPipelineException {
    nodes = PipelineRuns.nodeThreads();
    pipeline = PipelineRuns.compile(shape, definition(shape));
    inputs = List.of(Tensor.ofFloats("x", new long[] {1, 16}, new float[16]));
  }

  @TearDown
  public void stop() {
    nodes.shutdown();
  }

  @Benchmark
  @Threads(1)
  public InferenceResult threads1() {
    return PipelineRuns.infer(pipeline, inputs, nodes);
  }

  @Benchmark
  @Threads(16)
  public InferenceResult threads16() {
    return PipelineRuns.infer(pipeline, inputs, nodes);
  }

  /** The {@code pipeline.yaml} of a shape: {@code chain<N>} or {@code fan<N>}. */
  static String definition(String shape) {
    StringBuilder yaml = new StringBuilder("inputs: [{name: x, datatype: FP32, dims: [1, 16]}]\n");
    if (shape.startsWith("chain")) {
      int length = Integer.parseInt(shape.substring("chain".length()));
      yaml.append("outputs: [{name: y, from: n").append(length).append(".y}]\nnodes:\n");
      for (int i = 1; i <= length; i++) {
        yaml.append("  - {name: n").append(i).append(", op: pass, inputs: {in0: ")
            .append(i == 1 ? "x" : "n" + (i - 1) + ".y").append("}}\n");
      }
      return yaml.toString();
    }
    int width = Integer.parseInt(shape.substring("fan".length()));
    yaml.append("outputs: [{name: y, from: join.y}]\nnodes:\n");
    StringBuilder joined = new StringBuilder();
    for (int i = 0; i < width; i++) {
      yaml.append("  - {name: b").append(i).append(", op: pass, inputs: {in0: x}}\n");
      joined.append(i == 0 ? "" : ", ").append("in").append(i).append(": b").append(i).append(".y");
    }
    yaml.append("  - {name: join, op: pass, params: {inputs: ").append(width).append("}, inputs: {")
        .append(joined).append("}}\n");
    return yaml.toString();
  }
}
