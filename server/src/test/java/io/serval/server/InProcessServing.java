package io.serval.server;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.serval.core.InferenceRequest;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import io.serval.server.cache.ResponseCache;
import io.serval.server.config.ServerConfig;
import io.serval.server.engines.EngineRegistry;
import io.serval.server.inference.InferenceService;
import io.serval.server.inference.ModelServables;
import io.serval.server.inference.ServedPipelines;
import io.serval.server.repository.ModelRepository;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The serving core without the network: repository, scheduler and engine, for tests that send many requests. */
final class InProcessServing implements AutoCloseable {
  final EngineRegistry engines;
  final ModelRepository repository;
  final InferenceService inference;
  final ResponseCache cache;

  private InProcessServing(EngineRegistry engines, ModelRepository repository, ResponseCache cache) {
    this.engines = engines;
    this.repository = repository;
    this.cache = cache;
    ModelServables models = new ModelServables(repository, cache, Long.MAX_VALUE);
    this.inference = new InferenceService(models, ServedPipelines.load(Map.of(), models::resolve, new SimpleMeterRegistry()));
  }

  static InProcessServing load(Path repository, long cacheBytes) throws Exception {
    ServerConfig config = ServerConfig.load(Map.of(), List.of("--cpu_threads=2"));
    EngineRegistry engines = EngineRegistry.create(config);
    return new InProcessServing(
        engines,
        ModelRepository.load(List.of(repository), engines, new SimpleMeterRegistry()),
        ResponseCache.ofMaxBytes(cacheBytes));
  }

  /**
   * Runs {@code inputs} on the highest ready version of {@code model} and answers with compact copies of the
   * outputs (the result's own tensors are freed with the request once this returns) and the request id.
   */
  CompletableFuture<Answer> infer(String model, String id, List<Tensor> inputs) {
    return inference.infer(inference.resolve(model, ""),
        new InferenceRequest(id, Map.of(), inputs, null, true, 0, MemoryScope.open()), Runnable::run,
        result -> {
          List<Tensor> copies = new ArrayList<>();
          result.outputs().forEach(output -> copies.add(output.compactCopy()));
          return new Answer(result.id(), copies);
        });
  }

  /** A request's id and outputs, detached from its memory. */
  static final class Answer {
    final String id;
    final List<Tensor> outputs;

    Answer(String id, List<Tensor> outputs) {
      this.id = id;
      this.outputs = outputs;
    }
  }

  @Override
  public void close() {
    repository.close(5_000);
    engines.close();
  }
}
