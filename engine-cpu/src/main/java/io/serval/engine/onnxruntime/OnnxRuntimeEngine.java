package io.serval.engine.onnxruntime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
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
 * Runs ONNX models on the CPU with ONNX Runtime.
 *
 * <p>Settings (server configuration, {@code engines.onnxruntime}): {@code spin} ({@code true}/{@code false},
 * default {@code false}): whether idle pool threads spin, trading CPU for a little latency.
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

  private final @Nullable SharedEnvironment shared;
  private final EngineAvailability availability;

  private OnnxRuntimeEngine(@Nullable SharedEnvironment shared, EngineAvailability availability) {
    this.shared = shared;
    this.availability = availability;
  }

  /** Creates the engine; when ONNX Runtime cannot start here, the engine reports itself unavailable. */
  public static OnnxRuntimeEngine create(EngineContext context) {
    String spin = context.settings().getOrDefault("spin", "false");
    if (!spin.equals("true") && !spin.equals("false")) {
      return new OnnxRuntimeEngine(
          null, EngineAvailability.unavailable("setting spin: '" + spin + "' (expected: true or false)"));
    }
    try {
      return new OnnxRuntimeEngine(
          SharedEnvironment.get(context.cpuThreads(), Boolean.parseBoolean(spin)), EngineAvailability.available());
    } catch (OrtException | LinkageError | IllegalStateException e) {
      return new OnnxRuntimeEngine(
          null,
          EngineAvailability.unavailable(
              "ONNX Runtime could not start on " + System.getProperty("os.name") + "/"
                  + System.getProperty("os.arch") + ": " + e));
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public EngineAvailability availability() {
    return availability;
  }

  @Override
  public List<String> modelFileNames() {
    return List.of("model.onnx");
  }

  @Override
  public String threadingSummary() {
    SharedEnvironment env = requireAvailable();
    return env.intraOpThreads
        + " intra-op thread"
        + (env.intraOpThreads == 1 ? "" : "s")
        + " in the pool all onnxruntime instances share"
        + (env.spinning ? " (spinning)" : "");
  }

  @Override
  public ModelSignature inspect(Path modelFile) throws ModelLoadException {
    OrtSession session = openSession(modelFile);
    try {
      return signatureOf(modelFile, session);
    } finally {
      closeQuietly(session);
    }
  }

  @Override
  public ModelInstance open(InstanceSpec spec) throws ModelLoadException {
    OrtSession session = openSession(spec.modelFile());
    try {
      return new OnnxRuntimeInstance(
          requireAvailable().environment, session, signatureOf(spec.modelFile(), session), spec.toString());
    } catch (ModelLoadException | RuntimeException e) {
      closeQuietly(session);
      throw e;
    }
  }

  private OrtSession openSession(Path modelFile) throws ModelLoadException {
    SharedEnvironment env = requireAvailable();
    if (!Files.isRegularFile(modelFile)) {
      throw new ModelLoadException("model file " + modelFile + " does not exist");
    }
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.disablePerSessionThreads();
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
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
      throw new IllegalStateException("the onnxruntime engine is " + availability);
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
