package io.serval.engine.arm;

import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;
import io.serval.engine.onnxruntime.OnnxRuntimeEngine;
import io.serval.engine.onnxruntime.OnnxRuntimeProfile;

/**
 * Registers the {@code arm} engine with {@link java.util.ServiceLoader}: ONNX Runtime with {@link
 * OnnxRuntimeProfile#edge the edge profile}, one intra-op thread per physical core up to the server's CPU budget
 * (a second hardware thread on a core adds little to these kernels but contention).
 *
 * <pre>{@code
 * InferenceEngine engine = new ArmEngineProvider().create(EngineContext.of(4, Map.of()));
 * engine.modelFileNames(); // [model.ort, model.onnx]
 * }</pre>
 */
public final class ArmEngineProvider implements InferenceEngineProvider {
  /** The name models select this engine by. */
  public static final String NAME = "arm";

  @Override
  public String name() {
    return NAME;
  }

  /** ONNX Runtime's process-wide intra-op pool, which every ONNX Runtime engine shares. */
  @Override
  public String threadPool() {
    return OnnxRuntimeEngine.NAME;
  }

  @Override
  public InferenceEngine create(EngineContext context) {
    return OnnxRuntimeEngine.create(NAME, context, profile(context.cpuThreads(), PhysicalCores.onThisMachine()));
  }

  /** The edge profile with one thread per physical core, never more than {@code cpuThreads}. */
  static OnnxRuntimeProfile profile(int cpuThreads, int physicalCores) {
    return OnnxRuntimeProfile.edge(Math.min(cpuThreads, physicalCores));
  }
}
