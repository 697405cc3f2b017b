package io.serval.server.inference;

import io.micrometer.core.instrument.MeterRegistry;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.ModelNotFoundException;
import io.serval.core.ModelSignature;
import io.serval.core.ModelUnavailableException;
import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.dag.InvalidPipelineException;
import io.serval.dag.Pipeline;
import io.serval.dag.PipelineCompiler;
import io.serval.dag.PipelineDefinition;
import io.serval.dag.ServableResolver;
import io.serval.server.metrics.ModelMetrics;
import io.serval.server.metrics.PipelineNodeMetrics;
import io.serval.server.repository.ModelRepository;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The repository's pipelines ({@code <repo>/<name>/pipeline.yaml}), compiled at start against the models. A
 * pipeline that fails to compile is not served: it is listed with every problem, and the rest serve. A pipeline
 * has one version, {@code 1}, and the statistics and metrics of a model.
 */
public final class ServedPipelines implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServedPipelines.class);

  /** One pipeline: served, or refused with its problems. */
  public static final class Entry {
    private final String name;
    private final @Nullable ServedPipeline served;
    private final String reason;

    Entry(String name, @Nullable ServedPipeline served, String reason) {
      this.name = name;
      this.served = served;
      this.reason = reason;
    }

    public String name() {
      return name;
    }

    /** Why it is not served; empty when it is. */
    public String reason() {
      return reason;
    }

    public boolean isReady() {
      return served != null;
    }

    /** What it serves; only for a pipeline that compiled. */
    public ServedPipeline served() {
      if (served == null) {
        throw new IllegalStateException("pipeline '" + name + "' is not served");
      }
      return served;
    }

    /**
     * The pipeline a request names; {@code version} is empty or {@code 1}.
     *
     * @throws ModelNotFoundException for another version
     * @throws ModelUnavailableException when it did not compile
     */
    public Servable resolve(String version) {
      if (!version.isEmpty() && !version.equals("1")) {
        throw new ModelNotFoundException("pipeline '" + name + "' has no version " + version
            + " (served versions: 1)");
      }
      if (served == null) {
        throw new ModelUnavailableException("pipeline '" + name + "' is unavailable: " + reason);
      }
      return served;
    }
  }

  private final Map<String, Entry> pipelines;
  private final ExecutorService nodes;

  private ServedPipelines(Map<String, Entry> pipelines, ExecutorService nodes) {
    this.pipelines = pipelines;
    this.nodes = nodes;
  }

  /** Compiles the pipelines in {@code folders}; their {@code infer} nodes call {@code models}. */
  public static ServedPipelines load(Map<String, Path> folders, ServableResolver models, MeterRegistry registry) {
    PipelineCompiler compiler = PipelineCompiler.withInstalledOperators(models);
    AtomicInteger threads = new AtomicInteger();
    ExecutorService nodes = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), task -> {
      Thread thread = new Thread(task, "serval-pipeline-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    Map<String, Entry> pipelines = new LinkedHashMap<>();
    folders.forEach((name, folder) -> {
      try {
        PipelineNodeMetrics nodeMetrics = new PipelineNodeMetrics(registry, name);
        Pipeline pipeline = compiler.compile(PipelineDefinition.read(name,
            folder.resolve(ModelRepository.PIPELINE_FILE))).observedBy(nodeMetrics);
        log.info("pipeline {}: {}", name, pipeline.signature());
        pipelines.put(name, new Entry(name,
            new ServedPipeline(pipeline, new ModelMetrics(registry, name, "1"), nodeMetrics, nodes), ""));
      } catch (InvalidPipelineException e) {
        e.problems().forEach(problem -> log.error("pipeline {}: {}", name, problem));
        pipelines.put(name, new Entry(name, null, String.join("; ", e.problems())));
      }
    });
    return new ServedPipelines(pipelines, nodes);
  }

  /** The pipeline of that name, or {@code null} when there is none. */
  public @Nullable Entry get(String name) {
    return pipelines.get(name);
  }

  public Collection<Entry> all() {
    return pipelines.values();
  }

  @Override
  public void close() {
    nodes.shutdown();
    pipelines.values().stream().filter(Entry::isReady).forEach(entry -> {
      entry.served().metrics().close();
      entry.served().nodeMetrics.close();
    });
  }

  /**
   * A compiled pipeline with a model's statistics and metrics. Its nodes run on the pipelines' own threads
   * ({@code serval-pipeline-N}, one per core), never on an event loop; the result is handed back on the caller's
   * executor.
   */
  public static final class ServedPipeline implements Servable {
    private final Pipeline pipeline;
    private final ModelMetrics metrics;
    private final PipelineNodeMetrics nodeMetrics;
    private final Executor nodes;

    ServedPipeline(Pipeline pipeline, ModelMetrics metrics, PipelineNodeMetrics nodeMetrics, Executor nodes) {
      this.pipeline = pipeline;
      this.metrics = metrics;
      this.nodeMetrics = nodeMetrics;
      this.nodes = nodes;
    }

    public ModelMetrics metrics() {
      return metrics;
    }

    @Override
    public String name() {
      return pipeline.name();
    }

    @Override
    public String version() {
      return pipeline.version();
    }

    @Override
    public ModelSignature signature() {
      return pipeline.signature();
    }

    @Override
    public int maxBatchSize() {
      return pipeline.maxBatchSize();
    }

    @Override
    public String label() {
      return pipeline.label();
    }

    @Override
    public CompletableFuture<InferenceResult> infer(InferenceRequest request, Executor executor) {
      long started = System.nanoTime();
      metrics.started();
      CompletableFuture<InferenceResult> result = pipeline.infer(request, nodes);
      CompletableFuture<InferenceResult> answer = result.whenCompleteAsync((value, error) -> {
        if (error == null) {
          metrics.success(1, value.timings(), System.nanoTime() - started);
        } else {
          metrics.failure(ServalException.of(error).kind(), System.nanoTime() - started);
        }
      }, executor);
      // A caller that gives up stops the pipeline's nodes.
      answer.whenComplete((value, error) -> {
        if (error instanceof CancellationException) {
          result.cancel(false);
        }
      });
      return answer;
    }
  }
}
