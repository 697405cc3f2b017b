package io.serval.server.engines;

import io.serval.engine.EngineAvailability;
import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;
import io.serval.engine.ModelLoadException;
import io.serval.server.config.ServerConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engines found on the class path, each started the first time a model asks for it (an engine no model uses
 * never loads its natives or starts its threads), with its share of the server's CPU budget.
 *
 * <p><b>One CPU budget.</b> {@code cpu_threads} is the budget of every engine together. Engines that share a pool
 * of threads (the {@code onnxruntime} and {@code arm} engines share ONNX Runtime's) count once. The pools the
 * repository's models name when the server starts split the budget evenly, after the threads given explicitly with
 * {@code engines.NAME.cpu_threads}; a pool first needed later gets what is left, at least one thread. An engine
 * that runs on another processor ({@link InferenceEngineProvider#threadPool()} empty) gets one thread for its host
 * side.
 *
 * <p><b>{@code backend: auto}</b> picks, of the engines installed and able to run here: {@code tensorrt} (a GPU
 * with TensorRT), then {@code arm} on aarch64 machines, then {@code onnxruntime}, then {@code openvino}.
 */
public final class EngineRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EngineRegistry.class);

  /** The backend name that picks an engine by platform and availability. */
  public static final String AUTO = "auto";

  private final Map<String, InferenceEngineProvider> providers;
  private final Function<String, Map<String, String>> settings;
  private final int budget;
  private final String arch;
  private final Map<String, InferenceEngine> started = new LinkedHashMap<>();
  /** Threads given to each pool, once an engine of it started or the plan reserved them. */
  private final Map<String, Integer> poolThreads = new HashMap<>();

  EngineRegistry(List<InferenceEngineProvider> providers, int budget,
      Function<String, Map<String, String>> settings, String arch) {
    Map<String, InferenceEngineProvider> byName = new LinkedHashMap<>();
    providers.forEach(provider -> byName.put(provider.name(), provider));
    this.providers = byName;
    this.budget = budget;
    this.settings = settings;
    this.arch = arch;
  }

  /** The engines on the class path, none started yet, sharing the configuration's CPU budget. */
  public static EngineRegistry create(ServerConfig config) {
    List<InferenceEngineProvider> providers = new ArrayList<>();
    ServiceLoader.load(InferenceEngineProvider.class).forEach(providers::add);
    EngineRegistry registry = new EngineRegistry(providers, config.cpuThreads(), config::engineSettings,
        System.getProperty("os.arch"));
    log.info("engines installed: {}; CPU budget {} thread{} for all of them", String.join(", ",
        registry.providers.keySet()), config.cpuThreads(), config.cpuThreads() == 1 ? "" : "s");
    return registry;
  }

  /**
   * Splits the CPU budget between the thread pools of {@code backends}, the engines the repository's models name
   * at start ({@code auto} counting as the CPU engine it would pick on this platform).
   */
  public synchronized void plan(Collection<String> backends) {
    Set<String> pools = new LinkedHashSet<>();
    for (String backend : backends) {
      InferenceEngineProvider provider = providers.get(backend.equals(AUTO) ? cpuDefault() : backend);
      if (provider != null && !provider.threadPool().isEmpty()) {
        pools.add(provider.threadPool());
      }
    }
    pools.removeAll(poolThreads.keySet());
    int left = budget - poolThreads.values().stream().mapToInt(Integer::intValue).sum();
    List<String> even = new ArrayList<>();
    for (String pool : pools) {
      Integer explicit = explicitThreads(pool);
      if (explicit != null) {
        poolThreads.put(pool, explicit);
        left -= explicit;
      } else {
        even.add(pool);
      }
    }
    for (int i = 0; i < even.size(); i++) {
      int share = left / even.size() + (i < left % even.size() ? 1 : 0);
      poolThreads.put(even.get(i), Math.max(1, share));
    }
    if (!poolThreads.isEmpty()) {
      log.info("CPU budget of {} thread{}: {}", budget, budget == 1 ? "" : "s", poolThreads);
    }
  }

  /** The CPU engine {@code auto} counts as when planning: the one it picks here when no GPU engine can run. */
  private String cpuDefault() {
    return isArm() && providers.containsKey("arm") ? "arm" : "onnxruntime";
  }

  private boolean isArm() {
    return arch.equals("aarch64") || arch.equals("arm64");
  }

  /**
   * The available engine of that name, started on first use; {@code auto} picks one by platform and availability.
   *
   * @throws ModelLoadException when no such engine is on the class path or it cannot run here, saying why
   */
  public synchronized InferenceEngine engine(String name) throws ModelLoadException {
    if (name.equals(AUTO)) {
      return auto();
    }
    InferenceEngine engine = start(name);
    if (!engine.availability().isAvailable()) {
      throw new ModelLoadException("backend '" + name + "' is " + engine.availability());
    }
    return engine;
  }

  private InferenceEngine auto() throws ModelLoadException {
    List<String> order = new ArrayList<>(List.of("tensorrt"));
    if (isArm()) {
      order.add("arm");
    }
    order.addAll(List.of("onnxruntime", "openvino"));
    List<String> tried = new ArrayList<>();
    for (String name : order) {
      if (providers.containsKey(name)) {
        InferenceEngine engine = start(name);
        if (engine.availability().isAvailable()) {
          return engine;
        }
        tried.add(name + ": " + engine.availability());
      }
    }
    throw new ModelLoadException("backend 'auto' found no engine that can run here (" + (tried.isEmpty()
        ? "none installed" : String.join("; ", tried)) + ")");
  }

  private InferenceEngine start(String name) throws ModelLoadException {
    InferenceEngine engine = started.get(name);
    if (engine != null) {
      return engine;
    }
    InferenceEngineProvider provider = providers.get(name);
    if (provider == null) {
      throw new ModelLoadException("backend '" + name + "' is not installed (expected one of: "
          + String.join(", ", providers.keySet()) + (providers.isEmpty() ? "" : ", ") + AUTO + ")");
    }
    int threads = threadsFor(provider);
    engine = provider.create(EngineContext.of(threads, settings.apply(name)));
    started.put(name, engine);
    if (engine.availability().isAvailable()) {
      log.info("engine {}: started with {} CPU thread{}, {}", name, threads, threads == 1 ? "" : "s",
          engine.threadingSummary());
    } else {
      log.warn("engine {}: {}", name, engine.availability());
    }
    return engine;
  }

  /** The threads an engine starting now gets: its pool's, one for an engine off the CPU, or what is left. */
  private int threadsFor(InferenceEngineProvider provider) throws ModelLoadException {
    String pool = provider.threadPool();
    if (pool.isEmpty()) {
      return 1;
    }
    Integer threads = poolThreads.get(pool);
    if (threads == null) {
      Integer explicit = explicitThreads(pool);
      int left = budget - poolThreads.values().stream().mapToInt(Integer::intValue).sum();
      threads = explicit != null ? explicit : Math.max(1, left);
      poolThreads.put(pool, threads);
    }
    return threads;
  }

  /** {@code engines.NAME.cpu_threads} of the first engine of {@code pool} that sets it, checked. */
  private @Nullable Integer explicitThreads(String pool) {
    for (InferenceEngineProvider provider : providers.values()) {
      String value = provider.threadPool().equals(pool) ? settings.apply(provider.name()).get("cpu_threads") : null;
      if (value != null) {
        try {
          int threads = Integer.parseInt(value.trim());
          if (threads >= 1 && threads <= budget) {
            return threads;
          }
        } catch (NumberFormatException e) {
          // reported below
        }
        log.warn("engines.{}.cpu_threads: '{}' (expected: 1 to the server's cpu_threads, {}); sharing the budget"
            + " evenly instead", provider.name(), value, budget);
      }
    }
    return null;
  }

  /** Each installed engine: started and available (with its threads), started and why not, or not started. */
  public synchronized Map<String, String> describe() {
    Map<String, String> states = new LinkedHashMap<>();
    providers.forEach((name, provider) -> {
      InferenceEngine engine = started.get(name);
      EngineAvailability availability = engine == null ? null : engine.availability();
      states.put(name, engine == null ? "not started (no model has asked for it)"
          : availability.isAvailable() ? "available: " + engine.threadingSummary() : availability.toString());
    });
    return states;
  }

  @Override
  public synchronized void close() {
    started.values().forEach(InferenceEngine::close);
  }
}
