package io.serval.server.repository;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.serval.core.InvalidInputException;
import io.serval.core.ModelNotFoundException;
import io.serval.core.ModelSignature;
import io.serval.core.ModelUnavailableException;
import io.serval.engine.Device;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelLoadException;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ModelConfig;
import io.serval.server.engines.EngineRegistry;
import io.serval.server.metrics.ModelMetrics;
import io.serval.server.scheduling.InstancePool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of one or more repository folders, loaded at start.
 *
 * <pre>{@code
 * ModelRepository repository = ModelRepository.load(List.of(Path.of("models")), engines, meterRegistry);
 * ModelVersion version = repository.resolve("ocr_orientation", ""); // the highest ready version
 * }</pre>
 */
public final class ModelRepository implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelRepository.class);

  /** The file that makes a repository folder a pipeline rather than a model. */
  public static final String PIPELINE_FILE = "pipeline.yaml";

  private final Map<String, ModelEntry> models;
  private final Map<String, Path> pipelineFolders;

  private ModelRepository(Map<String, ModelEntry> models, Map<String, Path> pipelineFolders) {
    this.models = models;
    this.pipelineFolders = Map.copyOf(pipelineFolders);
  }

  /** The folders holding a {@value #PIPELINE_FILE}, by pipeline name: loaded as pipelines, not models. */
  public Map<String, Path> pipelineFolders() {
    return pipelineFolders;
  }

  /**
   * Scans the folders and loads every model; a model that fails is kept with its reason.
   *
   * @throws ConfigException when a repository folder does not exist
   */
  public static ModelRepository load(List<Path> roots, EngineRegistry engines, MeterRegistry registry)
      throws ConfigException {
    List<String> errors = new ArrayList<>();
    Map<String, List<Path>> found = new TreeMap<>();
    for (int i = 0; i < roots.size(); i++) {
      Path root = roots.get(i);
      if (!Files.isDirectory(root)) {
        errors.add("model_repositories[" + i + "]: " + root.toAbsolutePath() + " is not a folder");
        continue;
      }
      try (Stream<Path> children = Files.list(root)) {
        children.filter(Files::isDirectory)
            .filter(dir -> !dir.getFileName().toString().startsWith("."))
            .forEach(dir -> found.computeIfAbsent(dir.getFileName().toString(), k -> new ArrayList<>()).add(dir));
      } catch (IOException e) {
        errors.add("model_repositories[" + i + "]: cannot list " + root + ": " + e.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
    Map<String, ModelEntry> models = new LinkedHashMap<>();
    Map<String, Path> pipelines = new TreeMap<>();
    for (Map.Entry<String, List<Path>> model : found.entrySet()) {
      List<Path> dirs = model.getValue();
      if (dirs.size() == 1 && Files.isRegularFile(dirs.get(0).resolve(PIPELINE_FILE))) {
        pipelines.put(model.getKey(), dirs.get(0));
      } else if (dirs.size() > 1) {
        String reason = "model '" + model.getKey() + "' is in more than one repository: "
            + dirs.stream().map(Path::toString).collect(Collectors.joining(", "));
        log.error(reason);
        models.put(model.getKey(), new ModelEntry(model.getKey(), dirs.get(0), reason, new TreeMap<>()));
      } else {
        models.put(model.getKey(), loadModel(dirs.get(0), engines, registry));
      }
    }
    return new ModelRepository(models, pipelines);
  }

  private static ModelEntry loadModel(Path dir, EngineRegistry engines, MeterRegistry registry) {
    String name = dir.getFileName().toString();
    ModelConfig config;
    try {
      config = ModelConfig.read(dir);
    } catch (ConfigException e) {
      e.errors().forEach(error -> log.error("model {}: {}", name, error));
      return new ModelEntry(name, dir, String.join("; ", e.errors()), new TreeMap<>());
    }
    List<Long> onDisk = new ArrayList<>();
    try (Stream<Path> children = Files.list(dir)) {
      children.filter(Files::isDirectory)
          .map(child -> child.getFileName().toString())
          .filter(child -> child.matches("\\d{1,18}"))
          .forEach(child -> onDisk.add(Long.parseLong(child)));
    } catch (IOException e) {
      return new ModelEntry(name, dir, "cannot list " + dir + ": " + e.getMessage(), new TreeMap<>());
    }
    if (onDisk.isEmpty()) {
      String reason = dir + " has no version folders (expected: numeric folders such as " + dir.resolve("1") + ")";
      log.error("model {}: {}", name, reason);
      return new ModelEntry(name, dir, reason, new TreeMap<>());
    }
    NavigableMap<Long, ModelVersion> versions = new TreeMap<>();
    for (long version : config.versionPolicy().select(onDisk)) {
      versions.put(version, loadVersion(config, version, engines, registry));
    }
    for (long wanted : config.versionPolicy().specificVersions()) {
      if (!onDisk.contains(wanted)) {
        String reason = "version " + wanted + " is in the version policy but " + dir.resolve(Long.toString(wanted))
            + " does not exist";
        log.error("model {}: {}", name, reason);
        versions.put(wanted, ModelVersion.failed(name, wanted, reason));
      }
    }
    return new ModelEntry(name, dir, "", versions);
  }

  private static ModelVersion loadVersion(
      ModelConfig config, long version, EngineRegistry engines, MeterRegistry registry) {
    String name = config.name();
    long started = System.nanoTime();
    List<ModelInstance> opened = new ArrayList<>();
    try {
      InferenceEngine engine = engines.engine(config.backend());
      Path modelFile = modelFile(config, version, engine);
      ModelSignature signature = engine.inspect(modelFile);
      ModelConfig completed = config.completeWith(signature, modelFile);
      for (int i = 0; i < completed.instances(); i++) {
        opened.add(engine.open(InstanceSpec.of(name, version, modelFile, Device.cpu(), i, completed.parameters())));
      }
      ModelMetrics metrics = new ModelMetrics(registry, name, Long.toString(version));
      InstancePool pool = InstancePool.start(
          name + " v" + version, opened, completed.batching(), completed.maxBatchSize(), completed.maxRunTime(),
          metrics);
      long elapsed = System.nanoTime() - started;
      loadTimer(registry, name, version, "success").record(elapsed, TimeUnit.NANOSECONDS);
      log.info("model {} v{}: {} instance{} x {}, max_batch_size {}{}, loaded in {} ms; {}",
          name, version, completed.instances(), completed.instances() == 1 ? "" : "s", engine.threadingSummary(),
          completed.maxBatchSize(), completed.batching().enabled() ? ", dynamic batching" : "",
          TimeUnit.NANOSECONDS.toMillis(elapsed), completed.servedSignature());
      String threading = completed.instances() + " instance" + (completed.instances() == 1 ? "" : "s") + " x "
          + engine.threadingSummary();
      return ModelVersion.ready(name, version, completed, pool, metrics, threading);
    } catch (ModelLoadException | ConfigException | RuntimeException e) {
      opened.forEach(ModelInstance::close);
      loadTimer(registry, name, version, "failure").record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
      log.error("model {} v{}: failed to load: {}", name, version, e.getMessage());
      return ModelVersion.failed(name, version, e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  private static Timer loadTimer(MeterRegistry registry, String model, long version, String outcome) {
    return Timer.builder("serval.model.load")
        .description("Time to load a model version")
        .tags("model", model, "version", Long.toString(version), "outcome", outcome)
        .register(registry);
  }

  private static Path modelFile(ModelConfig config, long version, InferenceEngine engine) throws ModelLoadException {
    Path versionDir = config.directory().resolve(Long.toString(version));
    List<String> candidates =
        config.defaultModelFilename() != null ? List.of(config.defaultModelFilename()) : engine.modelFileNames();
    for (String candidate : candidates) {
      Path file = versionDir.resolve(candidate);
      if (Files.isRegularFile(file)) {
        return file;
      }
    }
    throw new ModelLoadException(versionDir + " has no model file (expected: " + String.join(" or ", candidates) + ")");
  }

  /**
   * The version a request names; an empty version means the highest ready one.
   *
   * @throws ModelNotFoundException for an unknown model or version
   * @throws InvalidInputException for a version that is not a number
   * @throws ModelUnavailableException for a version that is known but not ready
   */
  public ModelVersion resolve(String model, String version) {
    ModelEntry entry = model(model);
    if (!entry.reason().isEmpty()) {
      throw new ModelUnavailableException("model '" + model + "' is unavailable: " + entry.reason());
    }
    if (version.isEmpty()) {
      ModelVersion highest = entry.highestReady();
      if (highest == null) {
        throw new ModelUnavailableException("model '" + model + "' has no ready version"
            + entry.versions().values().stream()
                .map(v -> " (version " + v.version() + ": " + v.reason() + ")")
                .collect(Collectors.joining()));
      }
      return highest;
    }
    if (!version.matches("\\d{1,18}")) {
      throw new InvalidInputException("model '" + model + "': version '" + version
          + "' is not a version number (expected: digits, or no version for the highest ready one)");
    }
    ModelVersion found = entry.versions().get(Long.parseLong(version));
    if (found == null) {
      throw new ModelNotFoundException("model '" + model + "' has no version " + version + " (served versions: "
          + entry.versions().keySet().stream().map(String::valueOf).collect(Collectors.joining(", ")) + ")");
    }
    if (!found.isReady()) {
      throw new ModelUnavailableException(found.label() + " is unavailable: " + found.reason());
    }
    return found;
  }

  /**
   * The model of that name.
   *
   * @throws ModelNotFoundException when there is none
   */
  public ModelEntry model(String name) {
    ModelEntry entry = models.get(name);
    if (entry == null) {
      throw new ModelNotFoundException("unknown model '" + name + "'");
    }
    return entry;
  }

  /** All models, by name. */
  public List<ModelEntry> models() {
    return List.copyOf(models.values());
  }

  /** Whether every model with a sound configuration has at least one ready version. */
  public boolean allReady() {
    return models.values().stream().allMatch(entry -> entry.highestReady() != null);
  }

  /**
   * Lets in-flight requests finish for up to {@code drainMillis}, then releases every instance. Versions drain
   * side by side, each on its own thread ({@code serval-drain-<model>-<version>}), so the whole close takes one
   * drain time, not one per version.
   */
  public void close(long drainMillis) {
    List<Thread> drains = new ArrayList<>();
    for (ModelEntry entry : models.values()) {
      for (ModelVersion version : entry.versions().values()) {
        Thread drain = new Thread(() -> version.close(drainMillis),
            "serval-drain-" + version.modelName() + "-" + version.version());
        drain.start();
        drains.add(drain);
      }
    }
    for (Thread drain : drains) {
      try {
        drain.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void close() {
    close(0);
  }
}
