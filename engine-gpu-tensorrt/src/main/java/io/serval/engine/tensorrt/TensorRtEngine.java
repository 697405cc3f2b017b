package io.serval.engine.tensorrt;

import io.serval.core.InternalException;
import io.serval.core.ModelSignature;
import io.serval.engine.Device;
import io.serval.engine.EngineAvailability;
import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs models on an NVIDIA GPU with TensorRT, through Bytedeco's presets.
 *
 * <p>A version folder holds either {@code model.plan}, a plan built beforehand (with {@code trtexec}) for exactly this
 * TensorRT version and GPU model, loaded as it is, or {@code model.onnx}, which the engine builds into a plan on
 * first load and keeps in the plan cache, keyed by the model's SHA-256, the TensorRT version, the GPU's compute
 * capability and the build settings (see {@link TensorRtSettings} for the settings and {@link OptimizationProfiles}
 * for how dynamic shapes are bounded). The instances of one model version on one GPU share the deserialized plan;
 * each has its own execution context, CUDA stream and buffers.
 *
 * <p>Creating the engine loads no native library until it probes: without the natives or a GPU it reports itself
 * unavailable with the reason, and {@link #inspect} and {@link #open} fail with that reason.
 *
 * <pre>{@code
 * InferenceEngine engine = TensorRtEngine.create(EngineContext.of(2, Map.of("plan_cache", "/var/cache/serval")));
 * if (engine.availability().isAvailable()) {
 *   ModelInstance instance = engine.open(InstanceSpec.of("resnet", 1, onnx, Device.gpu(0), 0,
 *       Map.of("max_batch_size", "8")));
 * }
 * }</pre>
 */
public final class TensorRtEngine implements InferenceEngine {
  /** The name models select this engine by. */
  public static final String NAME = "tensorrt";

  private static final Logger log = LoggerFactory.getLogger(TensorRtEngine.class);

  private final Map<String, String> settings;
  private final EngineAvailability availability;
  private final @Nullable ProbeResult probe;
  private final @Nullable SharedPlans plans;

  private TensorRtEngine(
      Map<String, String> settings,
      EngineAvailability availability,
      @Nullable ProbeResult probe,
      @Nullable SharedPlans plans) {
    this.settings = settings;
    this.availability = availability;
    this.probe = probe;
    this.plans = plans;
  }

  /**
   * Creates the engine: checks the settings, then probes for the natives and a GPU; either failing makes the engine
   * unavailable, with the reason.
   */
  public static TensorRtEngine create(EngineContext context) {
    Map<String, String> settings = context.settings();
    try {
      TensorRtSettings.of(settings, Map.of());
    } catch (IllegalArgumentException e) {
      return new TensorRtEngine(settings, ProbeResult.unavailable(e.getMessage()).availability(), null, null);
    }
    ProbeResult probe = TensorRtProbe.result();
    if (!probe.availability().isAvailable()) {
      return new TensorRtEngine(settings, probe.availability(), null, null);
    }
    log.info("tensorrt: {}", probe);
    return new TensorRtEngine(settings, probe.availability(), probe, new SharedPlans());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public EngineAvailability availability() {
    return availability;
  }

  /** A prebuilt plan first (the author built it for this host on purpose), then an ONNX model to build. */
  @Override
  public List<String> modelFileNames() {
    return List.of("model.plan", "model.onnx");
  }

  /** The GPU only. */
  @Override
  public List<Device.Kind> deviceKinds() {
    return List.of(Device.Kind.GPU);
  }

  @Override
  public String threadingSummary() {
    if (probe == null) {
      return availability.toString();
    }
    return "one TensorRT " + probe.tensorRtVersion() + " execution context and CUDA stream per instance, no CPU pool";
  }

  @Override
  public ModelSignature inspect(Path modelFile) throws ModelLoadException {
    SharedPlans shared = requireAvailable();
    requireFile(modelFile);
    try {
      if (isPlan(modelFile)) {
        try (SharedPlans.Handle plan = shared.acquire(planFileKey(modelFile), 0, () -> read(modelFile))) {
          return TensorRtInstance.signatureOf(plan.engine(), modelFile.toString());
        }
      }
      return PlanBuilder.signatureOf(modelFile, 0);
    } catch (InternalException e) {
      throw new ModelLoadException(modelFile + ": " + e.getMessage(), e);
    }
  }

  @Override
  public ModelInstance open(InstanceSpec spec) throws ModelLoadException {
    SharedPlans shared = requireAvailable();
    ProbeResult found = requireProbe();
    Path modelFile = spec.modelFile();
    requireFile(modelFile);
    int device = deviceOf(spec, found);
    TensorRtSettings modelSettings;
    try {
      modelSettings = TensorRtSettings.of(settings, withServerBatch(spec));
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(spec + ": " + e.getMessage(), e);
    }
    try {
      SharedPlans.Handle plan = isPlan(modelFile)
          ? acquirePrebuilt(shared, spec, modelSettings, device)
          : acquireBuilt(shared, spec, modelSettings, device, found);
      return TensorRtInstance.open(plan, device, spec.toString());
    } catch (InternalException e) {
      throw new ModelLoadException(spec + ": " + e.getMessage(), e);
    }
  }

  private static SharedPlans.Handle acquirePrebuilt(
      SharedPlans shared, InstanceSpec spec, TensorRtSettings modelSettings, int device) throws ModelLoadException {
    if (!modelSettings.buildParameters().isEmpty()) {
      throw new ModelLoadException(spec + ": parameters " + modelSettings.buildParameters() + " set how a plan is"
          + " built, but " + spec.modelFile().getFileName() + " was built beforehand (expected: no build parameters,"
          + " or a model.onnx for the engine to build)");
    }
    Path file = spec.modelFile();
    return shared.acquire(planFileKey(file), device, () -> read(file));
  }

  private static SharedPlans.Handle acquireBuilt(
      SharedPlans shared, InstanceSpec spec, TensorRtSettings modelSettings, int device, ProbeResult found)
      throws ModelLoadException {
    Path onnx = spec.modelFile();
    List<ShapeRange> profile;
    try {
      profile = OptimizationProfiles.derive(PlanBuilder.signatureOf(onnx, device).inputs(), modelSettings);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(spec + ": " + e.getMessage(), e);
    }
    PlanCacheKey key;
    try {
      key = PlanCacheKey.of(PlanCacheKey.sha256Of(onnx), found.tensorRtVersion(), found.computeCapability(device),
          modelSettings.canonicalFlags() + ";profile=" + OptimizationProfiles.canonical(profile));
    } catch (IOException e) {
      throw new ModelLoadException(spec + ": cannot read " + onnx + ": " + e.getMessage(), e);
    }
    PlanCache cache = PlanCache.in(modelSettings.planCache());
    String id = cache.pathOf(key).toString();
    boolean[] fromCache = {false};
    try {
      return shared.acquire(id, device, () -> {
        Optional<ByteBuffer> cached = load(cache, key);
        fromCache[0] = cached.isPresent();
        return cached.isPresent() ? cached.get() : buildAndStore(spec, cache, key, device, modelSettings, profile);
      });
    } catch (ModelLoadException e) {
      if (!fromCache[0]) {
        throw e;
      }
      log.warn("{}: TensorRT refused the cached plan {}, rebuilding it: {}", spec, id, e.getMessage());
      invalidate(cache, key);
      return shared.acquire(id, device, () -> buildAndStore(spec, cache, key, device, modelSettings, profile));
    }
  }

  private static Optional<ByteBuffer> load(PlanCache cache, PlanCacheKey key) {
    try {
      return cache.load(key);
    } catch (IOException e) {
      log.warn("plan cache {}: cannot read {}, building anew: {}", cache.directory(), key.fileName(), e.toString());
      return Optional.empty();
    }
  }

  private static void invalidate(PlanCache cache, PlanCacheKey key) {
    try {
      cache.invalidate(key);
    } catch (IOException e) {
      log.warn("plan cache {}: cannot delete {}: {}", cache.directory(), key.fileName(), e.toString());
    }
  }

  private static ByteBuffer buildAndStore(InstanceSpec spec, PlanCache cache, PlanCacheKey key, int device,
      TensorRtSettings modelSettings, List<ShapeRange> profile) throws ModelLoadException {
    log.info("{}: building a TensorRT plan ({}), which can take minutes", spec, key);
    long started = System.nanoTime();
    ByteBuffer plan = PlanBuilder.build(spec.modelFile(), device, modelSettings, profile);
    log.info("{}: plan built in {} s, {} bytes", spec, (System.nanoTime() - started) / 1_000_000_000, plan.remaining());
    try {
      cache.store(key, plan);
    } catch (IOException e) {
      log.warn("{}: cannot keep the plan in {} (it is rebuilt on the next load): {}", spec, cache.directory(),
          e.toString());
    }
    return plan;
  }

  private static ByteBuffer read(Path file) throws ModelLoadException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
    } catch (IOException e) {
      throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** A plan file is shared while it is unchanged: its path, size and modification time. */
  private static String planFileKey(Path file) throws ModelLoadException {
    try {
      return file.toAbsolutePath() + "@" + Files.size(file) + "@" + Files.getLastModifiedTime(file).toMillis();
    } catch (IOException e) {
      throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static boolean isPlan(Path file) {
    return file.getFileName().toString().endsWith(".plan");
  }

  /**
   * The GPU an instance runs on: a GPU device by its index; the CPU device, which the server passes when a model
   * names no device, means GPU 0.
   */
  /**
   * The model's parameters, with the server's max_batch_size as {@code max_batch_size} when the parameters do not set
   * one (the optimization profile's largest batch).
   */
  static Map<String, String> withServerBatch(InstanceSpec spec) {
    if (spec.maxBatchSize() == 0 || spec.parameters().containsKey(TensorRtSettings.MAX_BATCH_SIZE)) {
      return spec.parameters();
    }
    Map<String, String> parameters = new HashMap<>(spec.parameters());
    parameters.put(TensorRtSettings.MAX_BATCH_SIZE, Integer.toString(spec.maxBatchSize()));
    return parameters;
  }

  private static int deviceOf(InstanceSpec spec, ProbeResult found) throws ModelLoadException {
    int index = spec.device().kind() == Device.Kind.GPU ? spec.device().index() : 0;
    if (index >= found.deviceCount()) {
      throw new ModelLoadException(spec + ": gpu:" + index + " does not exist (expected: gpu:0 to gpu:"
          + (found.deviceCount() - 1) + ")");
    }
    return index;
  }

  private static void requireFile(Path modelFile) throws ModelLoadException {
    if (!Files.isRegularFile(modelFile)) {
      throw new ModelLoadException("model file " + modelFile + " does not exist");
    }
  }

  private SharedPlans requireAvailable() throws ModelLoadException {
    if (plans == null) {
      throw new ModelLoadException(availability.reason());
    }
    return plans;
  }

  private ProbeResult requireProbe() throws ModelLoadException {
    if (probe == null) {
      throw new ModelLoadException(availability.reason());
    }
    return probe;
  }

  /** Instances free their own memory and let go of their plans when they are closed. */
  @Override
  public void close() {}
}
