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
import io.serval.server.repository.Fingerprint;
import io.serval.server.repository.ModelRepository;
import java.nio.file.Path;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The repository's pipelines ({@code <repo>/<name>/pipeline.yaml}), compiled against the models at start and again
 * after every change of the repository ({@link #reload}). A pipeline that fails to compile is not served: it is
 * listed with every problem, and the rest serve; one that compiled before keeps serving its previous form, and its
 * entry says why the new one was refused. A pipeline has one version, {@code 1}, and the statistics and metrics of
 * a model, which carry over its recompilations.
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

    /** Why it is not served, or why its latest form was refused; empty when there is no problem. */
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

  /** A pipeline's meters, kept while it is in the repository. */
  private record Meters(ModelMetrics metrics, PipelineNodeMetrics nodes) {}

  private final PipelineCompiler compiler;
  private final MeterRegistry registry;
  private final ExecutorService nodes;
  private final ConcurrentSkipListMap<String, Entry> pipelines = new ConcurrentSkipListMap<>();
  private final Map<String, Meters> meters = new HashMap<>();
  /** What each pipeline was last compiled from ({@link #source}). */
  private final Map<String, String> compiledFrom = new HashMap<>();
  private final ServableResolver resolver;

  private ServedPipelines(PipelineCompiler compiler, ServableResolver resolver, MeterRegistry registry,
      ExecutorService nodes) {
    this.compiler = compiler;
    this.resolver = resolver;
    this.registry = registry;
    this.nodes = nodes;
  }

  /** Compiles the pipelines in {@code folders}; their {@code infer} nodes call {@code models}. */
  public static ServedPipelines load(Map<String, Path> folders, ServableResolver models, MeterRegistry registry) {
    AtomicInteger threads = new AtomicInteger();
    ExecutorService nodes = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), task -> {
      Thread thread = new Thread(task, "serval-pipeline-" + threads.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    });
    ServedPipelines pipelines =
        new ServedPipelines(PipelineCompiler.withInstalledOperators(models), models, registry, nodes);
    pipelines.reload(folders);
    return pipelines;
  }

  /**
   * Compiles the pipelines in {@code folders} anew against the models as they are now, and stops serving those no
   * longer there. Requests under way finish on the form they started with.
   */
  public synchronized void reload(Map<String, Path> folders) {
    folders.forEach((name, folder) -> {
      Entry previous = pipelines.get(name);
      String source = source(name, folder);
      if (previous != null && source.equals(compiledFrom.get(name))) {
        return;
      }
      compiledFrom.put(name, source);
      Meters pipelineMeters = meters.computeIfAbsent(name,
          key -> new Meters(new ModelMetrics(registry, name, "1"), new PipelineNodeMetrics(registry, name)));
      try {
        Pipeline pipeline = compiler.compile(PipelineDefinition.read(name,
            folder.resolve(ModelRepository.PIPELINE_FILE))).observedBy(pipelineMeters.nodes());
        if (previous == null || !previous.isReady()
            || !previous.served().signature().toString().equals(pipeline.signature().toString())) {
          log.info("pipeline {}: {}", name, pipeline.signature());
        }
        pipelines.put(name, new Entry(name,
            new ServedPipeline(pipeline, pipelineMeters.metrics(), nodes), ""));
      } catch (InvalidPipelineException e) {
        String problems = String.join("; ", e.problems());
        if (previous != null && previous.reason().endsWith(problems)) {
          return;
        }
        e.problems().forEach(problem -> log.error("pipeline {}: {}", name, problem));
        boolean serving = previous != null && previous.isReady();
        pipelines.put(name, new Entry(name, serving ? previous.served() : null, serving
            ? "the pipeline as it is now is refused (its previous form keeps serving): " + problems : problems));
      }
    });
    for (String name : List.copyOf(pipelines.keySet())) {
      if (!folders.containsKey(name)) {
        pipelines.remove(name);
        compiledFrom.remove(name);
        Meters gone = meters.remove(name);
        gone.metrics().close();
        gone.nodes().close();
        log.info("pipeline {}: removed", name);
      }
    }
  }

  /**
   * What a pipeline is compiled from: its folder's files (names, sizes, times) and the signature each of its
   * {@code infer} nodes' models has now. The same source compiles to the same pipeline, so a reload skips it: a
   * model swapped for one that takes and gives the same tensors needs no recompilation (infer nodes resolve their
   * model per request).
   */
  private String source(String name, Path folder) {
    StringBuilder source = new StringBuilder(Fingerprint.ofFolder(folder));
    try {
      for (PipelineDefinition.Node node : PipelineDefinition.read(name, folder.resolve(ModelRepository.PIPELINE_FILE))
          .nodes()) {
        if (node.op().equals("infer") && node.params().has("model")) {
          String model = node.params().string("model");
          String version = node.params().has("version") ? node.params().string("version") : "";
          source.append('|').append(model).append(':').append(version).append('=');
          try {
            source.append(resolver.resolve(model, version).signature());
          } catch (ServalException e) {
            source.append("unresolved: ").append(e.getMessage());
          }
        }
      }
    } catch (InvalidPipelineException | RuntimeException e) {
      source.append("|unreadable: ").append(e.getMessage());
    }
    return source.toString();
  }

  /** The pipeline of that name, or {@code null} when there is none. */
  public @Nullable Entry get(String name) {
    return pipelines.get(name);
  }

  public Collection<Entry> all() {
    return pipelines.values();
  }

  @Override
  public synchronized void close() {
    nodes.shutdown();
    meters.values().forEach(pipelineMeters -> {
      pipelineMeters.metrics().close();
      pipelineMeters.nodes().close();
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
    private final Executor nodes;

    ServedPipeline(Pipeline pipeline, ModelMetrics metrics, Executor nodes) {
      this.pipeline = pipeline;
      this.metrics = metrics;
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
