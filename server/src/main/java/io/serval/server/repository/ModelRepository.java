package io.serval.server.repository;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.serval.core.InputValidator;
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
import io.serval.server.config.InstanceGroup;
import io.serval.server.config.ModelConfig;
import io.serval.server.engines.EngineRegistry;
import io.serval.server.metrics.ModelMetrics;
import io.serval.server.scheduling.InstancePool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.server.scheduling.QueueOptions;
import io.serval.server.warmup.Warmup;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of one or more repository folders, and the one place they change: at start, on a rescan of the
 * folders ({@link #rescan}, what {@link RepositoryWatcher} calls in {@code poll} mode), or when asked by name
 * ({@link #loadModel}, {@link #unloadModel}: the repository API in {@code explicit} mode). Changes run one at a
 * time; each model's {@link ModelEntry} is replaced in one step once its new versions are loaded and warmed, and
 * the versions it replaced are retired in the background (requests inside them finish there; new ones go to the
 * new entry).
 *
 * <p>A version folder counts when its name is a number and it is complete: it holds the configured ready marker
 * file, when {@code repository.ready_file} is set, and its files (names, sizes, modification times) have not
 * changed for {@code repository.settle_ms} across two scans (rescans only; at start and on an explicit load the
 * folder is taken as it is). Copy a version under another name and rename it into place to make it appear at
 * once. A version that fails to load never replaces one that serves: the old one keeps serving and the entry's
 * reason says why, until a good copy appears.
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
  /** The file that makes a repository folder an A/B route rather than a model. */
  public static final String ROUTE_FILE = "route.yaml";
  /** What a model name may be: one folder of a repository, never a path. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

  /** How the repository takes changes. */
  public record Settings(long settleMillis, @Nullable String readyFile, long drainMillis, int warmupRequests) {
    public static final Settings DEFAULT = new Settings(250, null, 30_000, 4);
  }

  private final List<Path> roots;
  private final EngineRegistry engines;
  private final MeterRegistry registry;
  private final Settings settings;
  private final ConcurrentSkipListMap<String, ModelEntry> models = new ConcurrentSkipListMap<>();
  private volatile Map<String, Path> pipelineFolders = Map.of();
  private volatile Map<String, Path> routeFolders = Map.of();
  /** Held by every change: one at a time. */
  private final ReentrantLock changing = new ReentrantLock();
  /** Version folders seen changing on a rescan, with what they held and when that was first seen. */
  private final Map<Path, Sighting> sightings = new HashMap<>();
  /** Version folders whose latest files failed to load: tried again only once they change. */
  private final Map<Path, Failure> failures = new HashMap<>();
  private final Map<String, ConfiguredLabels> configLabels = new HashMap<>();
  /** The files of each pipeline and route folder at the last look. */
  private final Map<Path, String> definitionFiles = new HashMap<>();
  /** Label changes through the API, by model: they last until the server stops. */
  private final Map<String, LabelChanges> labelChanges = new HashMap<>();
  /** The metrics of each model version number while any load of it lives: a reload carries them on. */
  private final Map<String, SharedMetrics> metrics = new HashMap<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<ModelVersion>> retiredListeners = new CopyOnWriteArrayList<>();
  private final ExecutorService retiring = Executors.newCachedThreadPool(task -> {
    Thread thread = new Thread(task, "serval-retire");
    thread.setDaemon(true);
    return thread;
  });

  private record Sighting(String fingerprint, long sinceNanos) {}

  /** A model's labels and default version as its configuration sets them. */
  private record ConfiguredLabels(Map<String, Long> labels, @Nullable String defaultVersion) {}

  /** The labels and default version set through the management API, over the configuration's. */
  private static final class LabelChanges {
    /** A label set (a version number) or removed ({@code null}). */
    final Map<String, @Nullable Long> labels = new HashMap<>();
    boolean defaultChanged;
    @Nullable String defaultVersion;
  }

  /** A version folder's files that failed to load, and why. */
  private record Failure(String fingerprint, String reason) {}

  private static final class SharedMetrics {
    final ModelMetrics metrics;
    int users;

    SharedMetrics(ModelMetrics metrics) {
      this.metrics = metrics;
    }
  }

  private final Counter rescans;
  /**
   * Whether the start's loads are done: loads after it are warmed here before they take traffic (those of the
   * start are warmed through the front ends, before the server reports ready).
   */
  private volatile boolean started;

  private ModelRepository(List<Path> roots, EngineRegistry engines, MeterRegistry registry, Settings settings) {
    this.roots = List.copyOf(roots);
    this.engines = engines;
    this.registry = registry;
    this.settings = settings;
    this.rescans = Counter.builder("serval.repository.rescans")
        .description("Rescans of the model repositories after the start (poll mode)")
        .register(registry);
  }

  /** The folders holding a {@value #PIPELINE_FILE}, by pipeline name: loaded as pipelines, not models. */
  public Map<String, Path> pipelineFolders() {
    return pipelineFolders;
  }

  /** The folders holding a {@value #ROUTE_FILE}, by route name: served as routes, not models. */
  public Map<String, Path> routeFolders() {
    return routeFolders;
  }

  /** Runs {@code listener} after every change that loaded, replaced or removed something. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /** Hands {@code listener} every load that was retired (replaced or removed), once its requests are answered. */
  public void onRetired(Consumer<ModelVersion> listener) {
    retiredListeners.add(listener);
  }

  /**
   * Scans the folders and loads every model, with the default settings; a model that fails is kept with its
   * reason.
   *
   * @throws ConfigException when a repository folder does not exist
   */
  public static ModelRepository load(List<Path> roots, EngineRegistry engines, MeterRegistry registry)
      throws ConfigException {
    return load(roots, engines, registry, Settings.DEFAULT);
  }

  /**
   * Scans the folders and loads every model; a model that fails is kept with its reason.
   *
   * @throws ConfigException when a repository folder does not exist
   */
  public static ModelRepository load(List<Path> roots, EngineRegistry engines, MeterRegistry registry,
      Settings settings) throws ConfigException {
    ModelRepository repository = new ModelRepository(roots, engines, registry, settings);
    Map<String, List<Path>> found = repository.scan();
    engines.plan(backendsNamed(found));
    repository.sync(found, false);
    repository.started = true;
    return repository;
  }

  /**
   * Brings the served models in line with the folders: new models and versions loaded, changed ones reloaded,
   * removed ones retired. Version folders still changing wait for a later rescan.
   *
   * @return whether a version folder is still settling (a rescan after {@link Settings#settleMillis} will look
   *     again)
   */
  public boolean rescan() {
    try {
      return sync(scan(), true);
    } catch (ConfigException e) {
      e.errors().forEach(error -> log.error("repository rescan: {}", error));
      return false;
    } finally {
      rescans.increment();
    }
  }

  /** The engines the models of {@code found} name in their configurations (those that can be read). */
  private static List<String> backendsNamed(Map<String, List<Path>> found) {
    List<String> backends = new ArrayList<>();
    for (List<Path> dirs : found.values()) {
      if (Files.isRegularFile(dirs.get(0).resolve(ModelConfig.FILE_NAME))) {
        try {
          backends.add(ModelConfig.read(dirs.get(0)).backend());
        } catch (ConfigException e) {
          // The model's load reports it.
        }
      }
    }
    return backends;
  }

  /** The repository folders, each child folder by name. */
  private Map<String, List<Path>> scan() throws ConfigException {
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
            .filter(dir -> NAME.matcher(dir.getFileName().toString()).matches())
            .forEach(dir -> found.computeIfAbsent(dir.getFileName().toString(), k -> new ArrayList<>()).add(dir));
      } catch (IOException e) {
        errors.add("model_repositories[" + i + "]: cannot list " + root + ": " + e.getMessage());
      }
    }
    if (!errors.isEmpty()) {
      throw new ConfigException(errors);
    }
    return found;
  }

  private boolean sync(Map<String, List<Path>> found, boolean settle) {
    changing.lock();
    try {
      boolean changed = false;
      boolean settling = false;
      Map<String, Path> pipelines = new TreeMap<>();
      Map<String, Path> routes = new TreeMap<>();
      for (Map.Entry<String, List<Path>> folder : found.entrySet()) {
        String name = folder.getKey();
        List<Path> dirs = folder.getValue();
        if (dirs.size() == 1 && Files.isRegularFile(dirs.get(0).resolve(PIPELINE_FILE))) {
          pipelines.put(name, dirs.get(0));
          changed |= removeModel(name, "its folder became a pipeline");
        } else if (dirs.size() == 1 && Files.isRegularFile(dirs.get(0).resolve(ROUTE_FILE))) {
          routes.put(name, dirs.get(0));
          changed |= removeModel(name, "its folder became a route");
        } else if (dirs.size() > 1) {
          String reason = "model '" + name + "' is in more than one repository: "
              + dirs.stream().map(Path::toString).collect(Collectors.joining(", "));
          ModelEntry current = models.get(name);
          if (current == null || !current.reason().equals(reason)) {
            log.error(reason);
            publish(name, new ModelEntry(name, dirs.get(0), reason,
                current == null ? new TreeMap<>() : current.versions()), List.of());
            changed = true;
          }
        } else {
          ModelEntry current = models.get(name);
          if (current != null && current.unloaded()) {
            continue;
          }
          Outcome outcome = syncModel(name, dirs.get(0), settle);
          changed |= outcome.changed;
          settling |= outcome.settling;
        }
      }
      for (String name : List.copyOf(models.keySet())) {
        if (!found.containsKey(name)) {
          changed |= removeModel(name, "its folder is gone");
        }
      }
      if (!pipelines.equals(pipelineFolders) || !routes.equals(routeFolders)) {
        pipelineFolders = Map.copyOf(pipelines);
        routeFolders = Map.copyOf(routes);
        changed = true;
      }
      // A pipeline's or route's own files changed: they are compiled again (as after any change of a model).
      changed |= filesChanged(pipelines) | filesChanged(routes);
      sightings.keySet().removeIf(dir -> !Files.isDirectory(dir));
      failures.keySet().removeIf(dir -> !Files.isDirectory(dir));
      if (changed) {
        listeners.forEach(Runnable::run);
      }
      return settling;
    } finally {
      changing.unlock();
    }
  }

  private record Outcome(boolean changed, boolean settling) {}

  /** Whether any of {@code folders}' files changed since the last look; the caller holds {@link #changing}. */
  private boolean filesChanged(Map<String, Path> folders) {
    boolean changed = false;
    for (Path folder : folders.values()) {
      String now = Fingerprint.ofFolder(folder);
      changed |= !now.equals(definitionFiles.put(folder, now));
    }
    definitionFiles.keySet().removeIf(folder -> !Files.isDirectory(folder));
    return changed;
  }

  /** Loads what changed in one model's folder; the caller holds {@link #changing}. */
  private Outcome syncModel(String name, Path dir, boolean settle) {
    ModelEntry current = models.get(name);
    NavigableMap<Long, ModelVersion> serving = current == null ? new TreeMap<>() : current.versions();
    ModelConfig config;
    String configFingerprint;
    try {
      configFingerprint = Fingerprint.ofFile(dir.resolve(ModelConfig.FILE_NAME));
      config = ModelConfig.read(dir);
    } catch (ConfigException e) {
      String reason = String.join("; ", e.errors());
      if (current != null && current.reason().equals(reason)) {
        return new Outcome(false, false);
      }
      e.errors().forEach(error -> log.error("model {}: {}", name, error));
      boolean stillServing = current != null && current.highestReady() != null;
      String shown = stillServing ? "the changed configuration is refused (the versions loaded before keep"
          + " serving): " + reason : reason;
      publish(name, current != null ? current.with(shown, serving) : new ModelEntry(name, dir, shown, serving),
          List.of());
      return new Outcome(true, false);
    }
    List<Long> onDisk = new ArrayList<>();
    // What each version folder holds now, with the configuration: a different value than a load's means a reload.
    Map<Long, String> fingerprints = new HashMap<>();
    // Served versions whose folders are incomplete or still changing: they keep serving as they are.
    Set<Long> waiting = new HashSet<>();
    boolean settling = false;
    try (Stream<Path> children = Files.list(dir)) {
      for (Path child : children.filter(Files::isDirectory).toList()) {
        String folder = child.getFileName().toString();
        if (!folder.matches("\\d{1,18}")) {
          continue;
        }
        long version = Long.parseLong(folder);
        String fingerprint = configFingerprint + "/" + Fingerprint.ofFolder(child);
        fingerprints.put(version, fingerprint);
        boolean marked = settings.readyFile() == null || Files.exists(child.resolve(settings.readyFile()));
        boolean settled = marked && (!settle || settled(child, fingerprint));
        settling |= marked && !settled;
        if (settled || serving.containsKey(version)) {
          onDisk.add(version);
        }
        if (!settled) {
          waiting.add(version);
        }
      }
    } catch (IOException e) {
      String reason = "cannot list " + dir + ": " + e.getMessage();
      publish(name, current != null ? current.with(reason, serving) : new ModelEntry(name, dir, reason, serving),
          List.of());
      return new Outcome(true, settling);
    }
    NavigableMap<Long, ModelVersion> next = new TreeMap<>();
    List<ModelVersion> replaced = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    boolean changed = current == null;
    for (long version : config.versionPolicy().select(onDisk)) {
      ModelVersion old = serving.get(version);
      Path versionDir = dir.resolve(Long.toString(version));
      String fingerprint = fingerprints.get(version);
      if (old != null && (waiting.contains(version) || old.fingerprint().equals(fingerprint))) {
        next.put(version, old);
        continue;
      }
      Failure failed = failures.get(versionDir);
      if (old != null && old.isReady() && failed != null && failed.fingerprint().equals(fingerprint)) {
        // The same files failed before: not tried again until they change.
        next.put(version, old);
        problems.add("version " + version + " failed to reload and its previous load keeps serving: "
            + failed.reason());
        continue;
      }
      ModelVersion loaded = started ? inBackground(() -> loadVersion(config, version, fingerprint))
          : loadVersion(config, version, fingerprint);
      if (loaded.isReady()) {
        failures.remove(versionDir);
      } else {
        failures.put(versionDir, new Failure(fingerprint, loaded.reason()));
      }
      changed = true;
      if (loaded.isReady()) {
        if (started) {
          warmUp(loaded);
        }
        next.put(version, loaded);
        if (old != null) {
          replaced.add(old);
        }
      } else if (old != null && old.isReady()) {
        next.put(version, old);
        problems.add("version " + version + " failed to reload and its previous load keeps serving: "
            + loaded.reason());
      } else {
        next.put(version, loaded);
        if (old != null) {
          replaced.add(old);
        }
      }
    }
    for (long wanted : config.versionPolicy().specificVersions()) {
      if (!onDisk.contains(wanted) && !next.containsKey(wanted)) {
        String reason = "version " + wanted + " is in the version policy but " + dir.resolve(Long.toString(wanted))
            + " does not exist";
        next.put(wanted, ModelVersion.failed(name, wanted, reason, ""));
      }
    }
    // Versions the policy no longer selects are retired, unless a newly selected one failed to load: then the
    // versions serving now keep serving until a good copy appears, rather than leaving fewer (or none).
    boolean newFailed = next.values().stream().anyMatch(selected -> !selected.isReady());
    for (Map.Entry<Long, ModelVersion> old : serving.entrySet()) {
      if (next.containsKey(old.getKey()) || replaced.contains(old.getValue())) {
        if (next.get(old.getKey()) != old.getValue() && !replaced.contains(old.getValue())) {
          replaced.add(old.getValue());
        }
      } else if (newFailed && old.getValue().isReady()) {
        next.put(old.getKey(), old.getValue());
        problems.add("version " + old.getKey() + " keeps serving while a newer version does not load");
      } else {
        replaced.add(old.getValue());
      }
    }
    if (onDisk.isEmpty() && next.isEmpty()) {
      problems.add(dir + " has no version folders (expected: numeric folders such as " + dir.resolve("1") + ")");
    }
    String reason = String.join("; ", problems);
    configLabels.put(name, new ConfiguredLabels(config.versionLabels(), config.defaultVersion()));
    ModelEntry entry = labelled(new ModelEntry(name, dir, reason, next, false, config.required(), Map.of(), null));
    if (!changed && replaced.isEmpty() && current != null && current.reason().equals(reason)
        && current.versions().equals(next) && current.required() == entry.required()
        && current.labels().equals(entry.labels()) && Objects.equals(current.defaultVersion(),
            entry.defaultVersion())) {
      return new Outcome(false, settling);
    }
    problems.forEach(problem -> log.error("model {}: {}", name, problem));
    publish(name, entry, replaced);
    return new Outcome(true, settling);
  }

  /**
   * Whether a version folder has held the same files ({@code fingerprint}) since a rescan at least {@code
   * settleMillis} ago; the caller holds {@link #changing}.
   */
  private boolean settled(Path versionDir, String fingerprint) {
    Sighting seen = sightings.get(versionDir);
    long now = System.nanoTime();
    if (seen == null || !seen.fingerprint().equals(fingerprint)) {
      sightings.put(versionDir, new Sighting(fingerprint, now));
      return seen == null && settings.settleMillis() == 0;
    }
    return now - seen.sinceNanos() >= TimeUnit.MILLISECONDS.toNanos(settings.settleMillis());
  }

  /** Makes {@code entry} what requests for {@code name} see, then retires {@code replaced} in the background. */
  private void publish(String name, ModelEntry entry, List<ModelVersion> replaced) {
    models.put(name, entry);
    for (ModelVersion version : replaced) {
      log.info("{}: retiring the load replaced or removed (generation {})", version.label(), version.generation());
      retiring.execute(() -> retire(version));
    }
  }

  private void retire(ModelVersion version) {
    version.retire(settings.drainMillis());
    releaseMetrics(version);
    retiredListeners.forEach(listener -> listener.accept(version));
  }


  private boolean removeModel(String name, String why) {
    ModelEntry current = models.remove(name);
    if (current == null) {
      return false;
    }
    log.info("model {}: removed, {}", name, why);
    for (ModelVersion version : current.versions().values()) {
      retiring.execute(() -> retire(version));
    }
    return true;
  }

  /** {@code entry} with the labels and default version in force: the configuration's, then the API's changes. */
  private ModelEntry labelled(ModelEntry entry) {
    ConfiguredLabels configured = configLabels.getOrDefault(entry.name(), new ConfiguredLabels(Map.of(), null));
    Map<String, Long> labels = new TreeMap<>(configured.labels());
    String defaultVersion = configured.defaultVersion();
    LabelChanges changes = labelChanges.get(entry.name());
    if (changes != null) {
      changes.labels.forEach((label, version) -> {
        if (version == null) {
          labels.remove(label);
        } else {
          labels.put(label, version);
        }
      });
      if (changes.defaultChanged) {
        defaultVersion = changes.defaultVersion;
      }
    }
    return entry.withLabels(labels, defaultVersion);
  }

  /**
   * Points label {@code label} of {@code model} at {@code version} ({@code null}: removes the label), until the
   * server stops; the configuration's labels stay as they are written.
   *
   * @throws ModelNotFoundException for an unknown model
   * @throws InvalidInputException for a label name that is not one, or removing the label the default version is
   */
  public ModelEntry setLabel(String model, String label, @Nullable Long version) {
    if (!ModelConfig.LABEL.matcher(label).matches()) {
      throw new InvalidInputException("'" + label + "' is not a label name (expected: a lower-case word starting"
          + " with a letter: letters, digits, '_' and '-', at most 64)");
    }
    changing.lock();
    try {
      ModelEntry current = model(model);
      if (version == null && label.equals(current.defaultVersion())) {
        throw new InvalidInputException("label '" + label + "' is model '" + model + "''s default version: change"
            + " the default version first");
      }
      labelChanges.computeIfAbsent(model, name -> new LabelChanges()).labels.put(label, version);
      ModelEntry updated = labelled(current);
      models.put(model, updated);
      log.info("model {}: label {} -> {}", model, label, version == null ? "removed" : "version " + version);
      return updated;
    } finally {
      changing.unlock();
    }
  }

  /**
   * Sends requests without a version to {@code version} (a number or a label; {@code null}: the highest ready
   * version), until the server stops.
   *
   * @throws ModelNotFoundException for an unknown model
   * @throws InvalidInputException for a version that is neither a number nor a label of the model
   */
  public ModelEntry setDefaultVersion(String model, @Nullable String version) {
    changing.lock();
    try {
      ModelEntry current = model(model);
      if (version != null && !version.matches("\\d{1,18}") && !current.labels().containsKey(version)) {
        throw new InvalidInputException("'" + version + "' is neither a version number nor a label of model '"
            + model + "' (labels: " + (current.labels().isEmpty() ? "none" : String.join(", ",
                current.labels().keySet())) + ")");
      }
      LabelChanges changes = labelChanges.computeIfAbsent(model, name -> new LabelChanges());
      changes.defaultChanged = true;
      changes.defaultVersion = version;
      ModelEntry updated = labelled(current);
      models.put(model, updated);
      log.info("model {}: default version -> {}", model, version == null ? "the highest ready" : version);
      return updated;
    } finally {
      changing.unlock();
    }
  }

  /**
   * Loads (or reloads) one model from its folder as it is now, whatever the control mode, and waits until its
   * versions serve; a model unloaded before is served again.
   *
   * @throws ModelNotFoundException when no repository has a folder of that name
   * @throws InvalidInputException for a name that is not a folder name
   * @throws ModelUnavailableException when no version of it could be loaded, with the reason
   */
  public void loadModel(String name) {
    Path dir = folderOf(name);
    changing.lock();
    try {
      if (Files.isRegularFile(dir.resolve(PIPELINE_FILE))) {
        pipelineFolders = with(pipelineFolders, name, dir);
        listeners.forEach(Runnable::run);
        return;
      }
      if (Files.isRegularFile(dir.resolve(ROUTE_FILE))) {
        routeFolders = with(routeFolders, name, dir);
        listeners.forEach(Runnable::run);
        return;
      }
      ModelEntry current = models.get(name);
      if (current != null && current.unloaded()) {
        models.remove(name);
      }
      // Asked for by name: files that failed before are tried again.
      failures.keySet().removeIf(failed -> failed.startsWith(dir));
      syncModel(name, dir, false);
      listeners.forEach(Runnable::run);
      ModelEntry loaded = models.get(name);
      if (loaded.highestReady() == null) {
        throw new ModelUnavailableException("model '" + name + "' failed to load: " + (loaded.reason().isEmpty()
            ? loaded.versions().values().stream().map(v -> "version " + v.version() + ": " + v.reason())
                .collect(Collectors.joining("; "))
            : loaded.reason()));
      }
      if (!loaded.reason().isEmpty()) {
        // Something did not load as asked, while what served before keeps serving: an error, as in Triton.
        throw new ModelUnavailableException("model '" + name + "' did not load as asked (the versions serving"
            + " before keep serving): " + loaded.reason());
      }
    } finally {
      changing.unlock();
    }
  }

  /**
   * Stops serving a model: requests under way finish, new ones are refused as for a model not found, and its
   * versions are closed once drained.
   *
   * @throws ModelNotFoundException when no model of that name is served
   */
  public void unloadModel(String name) {
    requireName(name);
    changing.lock();
    try {
      if (pipelineFolders.containsKey(name) || routeFolders.containsKey(name)) {
        pipelineFolders = with(pipelineFolders, name, null);
        routeFolders = with(routeFolders, name, null);
        listeners.forEach(Runnable::run);
        return;
      }
      ModelEntry current = models.get(name);
      if (current == null || current.unloaded()) {
        throw new ModelNotFoundException("unknown model '" + name + "'" + (current == null ? "" : " (unloaded)"));
      }
      publish(name, new ModelEntry(name, current.directory(), "unloaded", new TreeMap<>(), true, false, Map.of(),
          null),
          List.copyOf(current.versions().values()));
      log.info("model {}: unloaded", name);
      listeners.forEach(Runnable::run);
    } finally {
      changing.unlock();
    }
  }

  /** {@code folders} with {@code name} set to {@code folder}, or removed when it is {@code null}. */
  private static Map<String, Path> with(Map<String, Path> folders, String name, @Nullable Path folder) {
    Map<String, Path> changed = new TreeMap<>(folders);
    if (folder == null) {
      changed.remove(name);
    } else {
      changed.put(name, folder);
    }
    return Map.copyOf(changed);
  }

  /** The folder of model, pipeline or route {@code name}, refusing names that are not plain folder names. */
  private Path folderOf(String name) {
    requireName(name);
    for (Path root : roots) {
      Path dir = root.resolve(name);
      if (Files.isDirectory(dir)) {
        return dir;
      }
    }
    throw new ModelNotFoundException("no folder '" + name + "' in the model repositories ("
        + roots.stream().map(Path::toString).collect(Collectors.joining(", ")) + ")");
  }

  private static void requireName(String name) {
    if (!NAME.matcher(name).matches() || name.contains("..")) {
      throw new InvalidInputException("'" + name + "' is not a model name (expected: letters, digits, '_', '-' and"
          + " '.', at most 128, not starting with '.' or '-' and without '..': the name of one repository folder)");
    }
  }

  /**
   * Runs a load while the server serves at the lowest thread priority, so that opening sessions (an engine's graph
   * optimisation is most of a swap's CPU) yields the cores to requests in flight. The JVM applies Java priorities
   * on Linux with {@code -XX:ThreadPriorityPolicy=1} ({@code bin/serval} sets it: nice 4 here); without it this
   * changes nothing. The instances' own threads run at normal priority whatever thread starts them.
   */
  private static ModelVersion inBackground(Supplier<ModelVersion> load) {
    Thread thread = Thread.currentThread();
    int priority = thread.getPriority();
    thread.setPriority(Thread.MIN_PRIORITY);
    try {
      return load.get();
    } finally {
      thread.setPriority(priority);
    }
  }

  private ModelVersion loadVersion(ModelConfig config, long version, String fingerprint) {
    String name = config.name();
    long started = System.nanoTime();
    List<ModelInstance> opened = new ArrayList<>();
    try {
      InferenceEngine engine = engines.engine(config.backend());
      Path modelFile = modelFile(config, version, engine);
      ModelSignature signature = engine.inspect(modelFile);
      ModelConfig completed = config.completeWith(engine.name(), engine.deviceKinds().get(0), signature, modelFile);
      List<Device> devices = InstanceGroup.devices(completed.instanceGroups());
      for (Device device : devices) {
        if (!engine.deviceKinds().contains(device.kind())) {
          throw new ModelLoadException("instance_group: backend '" + engine.name() + "' runs on "
              + engine.deviceKinds().stream().map(kind -> kind.name().toLowerCase(java.util.Locale.ROOT)).toList()
              + " only, not " + device);
        }
      }
      for (int i = 0; i < devices.size(); i++) {
        opened.add(engine.open(InstanceSpec.of(name, version, modelFile, devices.get(i), i, completed.parameters())
            .withMaxBatchSize(completed.maxBatchSize())));
      }
      ModelMetrics versionMetrics = acquireMetrics(name, version);
      InstancePool pool;
      try {
        pool = InstancePool.start(name + " v" + version, opened, completed.batching(), completed.maxBatchSize(),
            completed.maxRunTime(), versionMetrics);
      } catch (RuntimeException e) {
        releaseMetrics(name, version);
        throw e;
      }
      long elapsed = System.nanoTime() - started;
      loadTimer(name, version, "success").record(elapsed, TimeUnit.NANOSECONDS);
      log.info("model {} v{}: {} instance{} x {}, max_batch_size {}{}, loaded in {} ms; {}",
          name, version, devices.size(), devices.size() == 1 ? "" : "s", engine.threadingSummary(),
          completed.maxBatchSize(), completed.batching().enabled() ? ", dynamic batching" : "",
          TimeUnit.NANOSECONDS.toMillis(elapsed), completed.servedSignature());
      String threading = devices.size() + " instance" + (devices.size() == 1 ? "" : "s") + " x "
          + engine.threadingSummary();
      return ModelVersion.ready(name, version, completed, pool, versionMetrics, threading, fingerprint);
    } catch (ModelLoadException | ConfigException | RuntimeException e) {
      opened.forEach(ModelInstance::close);
      loadTimer(name, version, "failure").record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
      log.error("model {} v{}: failed to load: {}", name, version, e.getMessage());
      return ModelVersion.failed(name, version, e.getMessage() == null ? e.toString() : e.getMessage(),
          fingerprint);
    }
  }

  /**
   * Runs a few requests of generated inputs straight into a new version's pool before it takes traffic, so its
   * first callers do not pay for the engine's first runs. A failure (the model may need real data) is logged and
   * the version serves anyway.
   */
  private void warmUp(ModelVersion version) {
    if (settings.warmupRequests() == 0) {
      return;
    }
    long started = System.nanoTime();
    try {
      List<String> outputs = version.servedSignature().outputs().stream().map(TensorSpec::name).toList();
      // One after another, of 1, 2, 4 ... rows up to max_batch_size: an engine plans memory per input shape, so
      // each batch size traffic will bring is run once before traffic brings it.
      int maxBatch = version.config().maxBatchSize();
      for (int i = 0; i < settings.warmupRequests(); i++) {
        MemoryScope memory = MemoryScope.open();
        CompletableFuture<?> run;
        try {
          List<Tensor> inputs = Warmup.sampleInputs(version.servedSignature(), i,
              maxBatch > 0 ? Math.min(maxBatch, 1 << Math.min(i, 30)) : 1, memory);
          int rows = InputValidator.validate(version.label(), version.servedSignature(), maxBatch, inputs);
          run = version.pool().submit(inputs, outputs, rows, QueueOptions.DEFAULT, memory);
        } catch (RuntimeException e) {
          memory.release();
          throw e;
        }
        // Freed once the run is over, even when this thread stops waiting for it.
        run.whenComplete((execution, error) -> memory.release()).get(30, TimeUnit.SECONDS);
      }
      log.info("{}: warmed with {} requests in {} ms", version.label(), settings.warmupRequests(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      log.warn("{}: warm-up with generated inputs failed ({}); it serves anyway", version.label(),
          e.getCause() == null ? e.toString() : e.getCause().getMessage());
    }
    version.metrics().statistics().reset();
  }

  private ModelMetrics acquireMetrics(String name, long version) {
    synchronized (metrics) {
      SharedMetrics shared = metrics.computeIfAbsent(name + "/" + version,
          key -> new SharedMetrics(new ModelMetrics(registry, name, Long.toString(version))));
      shared.users++;
      return shared.metrics;
    }
  }

  private void releaseMetrics(ModelVersion version) {
    if (version.hasMetrics()) {
      releaseMetrics(version.modelName(), version.version());
    }
  }

  private void releaseMetrics(String name, long version) {
    synchronized (metrics) {
      String key = name + "/" + version;
      SharedMetrics shared = metrics.get(key);
      if (shared != null && --shared.users == 0) {
        metrics.remove(key);
        shared.metrics.close();
      }
    }
  }

  private Timer loadTimer(String model, long version, String outcome) {
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
    String wanted = version.isEmpty() && entry.defaultVersion() != null ? entry.defaultVersion() : version;
    if (wanted.isEmpty()) {
      ModelVersion highest = entry.highestReady();
      if (highest == null) {
        throw new ModelUnavailableException("model '" + model + "' has no ready version"
            + (entry.reason().isEmpty() ? "" : ": " + entry.reason())
            + entry.versions().values().stream()
                .map(v -> " (version " + v.version() + ": " + v.reason() + ")")
                .collect(Collectors.joining()));
      }
      return highest;
    }
    String label = "";
    if (!wanted.matches("\\d{1,18}")) {
      Long labelled = entry.labels().get(wanted);
      if (labelled == null) {
        // Triton answers a version that is not a number as a bad request; so does Serval for an unknown label.
        throw new InvalidInputException("model '" + model + "': version '" + wanted + "' is not a version number"
            + " or one of its labels (labels: " + (entry.labels().isEmpty() ? "none" : entry.labels().entrySet()
                .stream().map(e -> e.getKey() + " = " + e.getValue()).collect(Collectors.joining(", ")))
            + "; expected: digits, a label, or no version)");
      }
      label = " (label '" + wanted + "')";
      wanted = Long.toString(labelled);
    }
    ModelVersion found = entry.versions().get(Long.parseLong(wanted));
    if (found == null) {
      throw new ModelNotFoundException("model '" + model + "' has no version " + wanted + label
          + " (served versions: " + (entry.versions().isEmpty() ? "none" : entry.versions().keySet().stream()
              .map(String::valueOf).collect(Collectors.joining(", "))) + ")");
    }
    if (!found.isReady()) {
      throw new ModelUnavailableException(found.label() + label + " is unavailable: " + found.reason());
    }
    return found;
  }

  /**
   * The model of that name.
   *
   * @throws ModelNotFoundException when there is none, or it was unloaded
   */
  public ModelEntry model(String name) {
    ModelEntry entry = models.get(name);
    if (entry == null) {
      throw new ModelNotFoundException("unknown model '" + name + "'");
    }
    if (entry.unloaded()) {
      throw new ModelNotFoundException("model '" + name + "' is unloaded (POST /v2/repository/models/" + name
          + "/load serves it again)");
    }
    return entry;
  }

  /** All models, by name, unloaded ones included. */
  public List<ModelEntry> models() {
    return List.copyOf(models.values());
  }

  /**
   * Whether every model that must serve for the server to be ready does: each model whose configuration says
   * {@code required} (the default) and that was not unloaded has a ready version.
   */
  public boolean allReady() {
    return models.values().stream()
        .filter(entry -> !entry.unloaded() && entry.required())
        .allMatch(entry -> entry.highestReady() != null);
  }

  /**
   * Lets in-flight requests finish for up to {@code drainMillis}, then releases every instance. Versions drain
   * side by side, each on its own thread ({@code serval-drain-<model>-<version>}), so the whole close takes one
   * drain time, not one per version.
   */
  public void close(long drainMillis) {
    changing.lock();
    try {
      List<Thread> drains = new ArrayList<>();
      for (ModelEntry entry : models.values()) {
        for (ModelVersion version : entry.versions().values()) {
          Thread drain = new Thread(() -> {
            version.close(drainMillis);
            releaseMetrics(version);
          }, "serval-drain-" + version.modelName() + "-" + version.version());
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
      retiring.shutdown();
    } finally {
      changing.unlock();
    }
  }

  @Override
  public void close() {
    close(0);
  }
}
