package io.serval.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.serval.core.ErrorKind;
import io.serval.dag.NodeObserver;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The nodes of one pipeline in Micrometer: {@code serval_pipeline_node_seconds} (a histogram) by pipeline, node
 * and outcome ({@code success}, or the failure's kind), so each node's latency and errors are on the dashboard.
 */
public final class PipelineNodeMetrics implements NodeObserver {
  private final MeterRegistry registry;
  private final String pipeline;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  public PipelineNodeMetrics(MeterRegistry registry, String pipeline) {
    this.registry = registry;
    this.pipeline = pipeline;
  }

  @Override
  public void finished(String node, long nanos, @Nullable ErrorKind failure) {
    String outcome = failure == null ? "success" : failure.name().toLowerCase(Locale.ROOT);
    timers.computeIfAbsent(node + '\n' + outcome, key -> Timer.builder("serval.pipeline.node")
            .description("Time one node of a pipeline took for one request, by outcome")
            .tags("pipeline", pipeline, "node", node, "outcome", outcome)
            .publishPercentileHistogram()
            .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Takes the pipeline's node meters out of the registry. */
  public void close() {
    timers.values().forEach(registry::remove);
  }
}
