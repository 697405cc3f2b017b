package io.serval.benchmarks;

import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.MemoryScope;
import io.serval.core.ModelNotFoundException;
import io.serval.core.Tensor;
import io.serval.dag.InvalidPipelineException;
import io.serval.dag.Pipeline;
import io.serval.dag.PipelineCompiler;
import io.serval.dag.PipelineDefinition;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the benchmarks do as the server does: pipelines compiled with the operators on the classpath, run on the
 * pipelines' own threads (a fixed pool of one thread per core, as {@code ServedPipelines} makes), and each request
 * in its own memory, opened before the run and released after the answer.
 */
final class PipelineRuns {
  private PipelineRuns() {}

  /** The pipelines' threads: {@code serval-pipeline-N}, one per core, daemons. */
  static ExecutorService nodeThreads() {
    AtomicInteger threads = new AtomicInteger();
    return Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), task -> {
      Thread thread = new Thread(task, "serval-pipeline-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
  }

  /** Compiles {@code yaml} with every installed operator; the benchmarks' pipelines call no models. */
  static Pipeline compile(String name, String yaml) throws InvalidPipelineException {
    PipelineCompiler compiler = PipelineCompiler.withInstalledOperators((model, version) -> {
      throw new ModelNotFoundException("the benchmarks' pipelines call no models");
    });
    return compiler.compile(PipelineDefinition.parse(name, "pipeline.yaml", yaml));
  }

  /** One request of {@code inputs} through {@code pipeline}, waited for; its memory is released before returning. */
  static InferenceResult infer(Pipeline pipeline, List<Tensor> inputs, ExecutorService nodes) {
    MemoryScope memory = MemoryScope.open();
    try {
      return inferIn(memory, pipeline, inputs, nodes);
    } finally {
      memory.release();
    }
  }

  /** One request of {@code inputs} through {@code pipeline}, waited for; its outputs live in {@code memory}. */
  static InferenceResult inferIn(MemoryScope memory, Pipeline pipeline, List<Tensor> inputs, ExecutorService nodes) {
    return pipeline.infer(new InferenceRequest("bench", Map.of(), inputs, null, true, 0, memory), nodes).join();
  }
}
