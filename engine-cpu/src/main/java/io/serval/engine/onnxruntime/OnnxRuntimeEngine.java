package io.serval.engine.onnxruntime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.serval.core.DataType;
import io.serval.core.ModelSignature;
import io.serval.core.TensorSpec;
import io.serval.engine.EngineAvailability;
import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelLoadException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Runs ONNX models on the CPU with ONNX Runtime, set up by an {@link OnnxRuntimeProfile}: the {@code onnxruntime}
 * engine uses the server profile; other modules (the {@code arm} engine) create the same engine under their own name
 * with another profile.
 *
 * <p>Settings (server configuration, {@code engines.onnxruntime}): {@code spin} ({@code true}/{@code false},
 * default {@code false}): whether idle pool threads spin, trading CPU for a little latency.
 *
 * <p>ONNX Runtime has one environment per process, and its intra-op pool is sized once, by the first engine
 * created: every ONNX Runtime engine in the process shares that pool, and one created later says in its {@link
 * #threadingSummary} which engine sized it and what it asked for (in one server every ONNX Runtime engine asks for
 * the same share of the CPU budget; tests that start several servers in one process see the first one's pool).
 *
 * <pre>{@code
 * InferenceEngine engine = OnnxRuntimeEngine.create(EngineContext.of(2, Map.of()));
 * ModelInstance instance = engine.open(InstanceSpec.of("cls", 1, path, Device.cpu(), 0, Map.of()));
 * List<Tensor> outputs = instance.run(List.of(x), List.of("softmax_0.tmp_0"), RunContext.of(scope)).outputs();
 * }</pre>
 */
public final class OnnxRuntimeEngine implements InferenceEngine {
  /** The name models select this engine by. */
  public static final String NAME = "onnxruntime";

  private final String name;
  private final OnnxRuntimeProfile profile;
  private final @Nullable SharedEnvironment shared;
  private final boolean xnnpack;
  private final EngineAvailability availability;

  private OnnxRuntimeEngine(
      String name,
      OnnxRuntimeProfile profile,
      @Nullable SharedEnvironment shared,
      boolean xnnpack,
      EngineAvailability availability) {
    this.name = name;
    this.profile = profile;
    this.shared = shared;
    this.xnnpack = xnnpack;
    this.availability = availability;
  }

  /**
   * Creates the {@code onnxruntime} engine with the server profile; when ONNX Runtime cannot start here, the engine
   * reports itself unavailable.
   */
  public static OnnxRuntimeEngine create(EngineContext context) {
    String spin = context.settings().getOrDefault("spin", "false");
    if (!spin.equals("true") && !spin.equals("false")) {
      return unavailable(
          NAME,
          OnnxRuntimeProfile.server(context.cpuThreads(), false),
          "setting spin: '" + spin + "' (expected: true or false)");
    }
    return create(NAME, context, OnnxRuntimeProfile.server(context.cpuThreads(), Boolean.parseBoolean(spin)));
  }

  /**
   * Creates an ONNX Runtime engine named {@code name}, set up by {@code profile}; when ONNX Runtime cannot start
   * here, the engine reports itself unavailable. The process's shared pool keeps the size the first engine gave
   * it; an engine asking for another size says so in its {@link #threadingSummary}.
   *
   * @throws IllegalArgumentException when the profile asks for more intra-op threads than the budget
   */
  public static OnnxRuntimeEngine create(String name, EngineContext context, OnnxRuntimeProfile profile) {
    if (profile.intraOpThreads() > context.cpuThreads()) {
      throw new IllegalArgumentException(
          "intraOpThreads: " + profile.intraOpThreads() + " (expected: <= cpuThreads, " + context.cpuThreads() + ")");
    }
    SharedEnvironment shared;
    try {
      shared = SharedEnvironment.get(profile, name);
    } catch (OrtException | LinkageError | IllegalStateException e) {
      return unavailable(
          name,
          profile,
          "ONNX Runtime could not start on " + System.getProperty("os.name") + "/" + System.getProperty("os.arch")
              + ": " + e);
    }
    boolean xnnpack = profile.xnnpack() && OrtEnvironment.getAvailableProviders().contains(OrtProvider.XNNPACK);
    return new OnnxRuntimeEngine(name, profile, shared, xnnpack, EngineAvailability.available());
  }

  private static OnnxRuntimeEngine unavailable(String name, OnnxRuntimeProfile profile, String reason) {
    return new OnnxRuntimeEngine(name, profile, null, false, EngineAvailability.unavailable(reason));
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public EngineAvailability availability() {
    return availability;
  }

  @Override
  public List<String> modelFileNames() {
    return profile.modelFileNames();
  }

  /** The profile this engine was created with. */
  public OnnxRuntimeProfile profile() {
    return profile;
  }

  /** Whether this engine's sessions use XNNPACK: its profile asks for it and the running ONNX Runtime has it. */
  public boolean usesXnnpack() {
    return xnnpack;
  }

  /**
   * The shared pool's size and spinning; which engine sized it when another did; and, when the profile departs from
   * ONNX Runtime's defaults, its memory settings and whether XNNPACK is in use.
   */
  @Override
  public String threadingSummary() {
    SharedEnvironment env = requireAvailable();
    StringBuilder summary =
        new StringBuilder()
            .append(env.intraOpThreads)
            .append(" intra-op thread")
            .append(env.intraOpThreads == 1 ? "" : "s")
            .append(" in the pool all onnxruntime instances share")
            .append(env.spinning ? " (spinning)" : "");
    if (!env.createdBy.equals(name) || env.intraOpThreads != profile.intraOpThreads()) {
      summary
          .append(", sized by engine ")
          .append(env.createdBy)
          .append(" (one pool per process; this engine asked for ")
          .append(profile.intraOpThreads())
          .append(profile.spinning() ? ", spinning)" : ", no spinning)");
    }
    if (!profile.cpuMemoryArena() || !profile.memoryPattern()) {
      summary
          .append("; CPU memory arena ")
          .append(profile.cpuMemoryArena() ? "on" : "off")
          .append(", memory patterns ")
          .append(profile.memoryPattern() ? "on" : "off");
    }
    if (profile.xnnpack()) {
      summary.append(xnnpack ? "; XNNPACK in use" : "; XNNPACK not in this ONNX Runtime build, CPU provider only");
    }
    return summary.toString();
  }

  @Override
  public ModelSignature inspect(Path modelFile) throws ModelLoadException {
    // Only the inputs and outputs are read, which graph optimisations keep: a session without them opens in about a
    // third of the time (ocr_orientation: 14 ms against 40), CPU a hot reload takes from the requests in flight.
    OrtSession session = openSession(modelFile, OrtSession.SessionOptions.OptLevel.NO_OPT);
    try {
      return signatureOf(modelFile, session);
    } finally {
      closeQuietly(session);
    }
  }

  @Override
  public ModelInstance open(InstanceSpec spec) throws ModelLoadException {
    OrtSession session = openSession(spec.modelFile(), OrtSession.SessionOptions.OptLevel.ALL_OPT);
    try {
      return new OnnxRuntimeInstance(
          requireAvailable().environment, session, signatureOf(spec.modelFile(), session), spec.toString());
    } catch (ModelLoadException | RuntimeException e) {
      closeQuietly(session);
      throw e;
    }
  }

  private OrtSession openSession(Path modelFile, OrtSession.SessionOptions.OptLevel optimization)
      throws ModelLoadException {
    SharedEnvironment env = requireAvailable();
    if (!Files.isRegularFile(modelFile)) {
      throw new ModelLoadException("model file " + modelFile + " does not exist");
    }
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.disablePerSessionThreads();
      options.setOptimizationLevel(optimization);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setCPUArenaAllocator(profile.cpuMemoryArena());
      options.setMemoryPatternOptimization(profile.memoryPattern());
      if (xnnpack) {
        // XNNPACK keeps a pool of its own; sized like the shared one, since a run's XNNPACK and CPU nodes take turns.
        options.addXnnpack(Map.of("intra_op_num_threads", String.valueOf(env.intraOpThreads)));
      }
      return env.environment.createSession(modelFile.toString(), options);
    } catch (OrtException e) {
      throw new ModelLoadException("onnxruntime cannot load " + modelFile + ": " + e.getMessage(), e);
    }
  }

  private static ModelSignature signatureOf(Path modelFile, OrtSession session) throws ModelLoadException {
    try {
      return ModelSignature.of(
          specs(modelFile, "input", session.getInputInfo()), specs(modelFile, "output", session.getOutputInfo()));
    } catch (OrtException e) {
      throw new ModelLoadException("onnxruntime cannot read the signature of " + modelFile + ": " + e.getMessage(), e);
    }
  }

  private static List<TensorSpec> specs(Path modelFile, String what, Map<String, NodeInfo> nodes)
      throws ModelLoadException {
    List<TensorSpec> specs = new ArrayList<>();
    for (NodeInfo node : nodes.values()) {
      if (!(node.getInfo() instanceof TensorInfo)) {
        throw new ModelLoadException(
            modelFile + ": " + what + " '" + node.getName() + "' is " + node.getInfo() + " (expected: a tensor)");
      }
      TensorInfo info = (TensorInfo) node.getInfo();
      DataType type = OnnxTypes.toDataType(info.onnxType);
      if (type == null) {
        throw new ModelLoadException(
            modelFile + ": " + what + " '" + node.getName() + "' has element type " + info.onnxType
                + ", which the v2 protocol cannot carry");
      }
      if (what.equals("input") && type != DataType.BYTES && OnnxTypes.bufferType(type) == null) {
        throw new ModelLoadException(
            modelFile + ": input '" + node.getName() + "' is " + type.wireName()
                + ", which ONNX Runtime's Java API cannot feed");
      }
      specs.add(TensorSpec.of(node.getName(), type, info.getShape()));
    }
    return specs;
  }

  private SharedEnvironment requireAvailable() {
    if (shared == null) {
      throw new IllegalStateException("the " + name + " engine is " + availability);
    }
    return shared;
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException ignored) {
      // Only read or half-opened: ONNX Runtime releases its native memory either way.
    }
  }

  /** The environment is process-wide and outlives engines; sessions are closed by their instances. */
  @Override
  public void close() {}
}
