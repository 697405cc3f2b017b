package io.serval.engine.onnxruntime;

import java.util.List;
import java.util.Objects;

/**
 * How ONNX Runtime is set up for one engine: the shared intra-op pool (its size and whether idle threads spin), the
 * per-session memory settings, whether to use XNNPACK when the runtime has it, and which model files to load.
 *
 * <p>Two profiles exist. {@link #server} is the {@code onnxruntime} engine's: a pool the size of the server's
 * budget, ONNX Runtime's own memory defaults (the CPU arena and memory patterns on), {@code model.onnx}. {@link
 * #edge} is for small devices: no spinning, no arena and no memory patterns (memory goes back to the system after
 * a run instead of staying reserved for the largest shapes seen), XNNPACK when offered, and a pre-optimised
 * ORT-format {@code model.ort} before {@code model.onnx}.
 *
 * <pre>{@code
 * InferenceEngine engine = OnnxRuntimeEngine.create("arm", context, OnnxRuntimeProfile.edge(4));
 * }</pre>
 */
public final class OnnxRuntimeProfile {
  private final int intraOpThreads;
  private final boolean spinning;
  private final boolean cpuMemoryArena;
  private final boolean memoryPattern;
  private final boolean xnnpack;
  private final List<String> modelFileNames;

  private OnnxRuntimeProfile(
      int intraOpThreads,
      boolean spinning,
      boolean cpuMemoryArena,
      boolean memoryPattern,
      boolean xnnpack,
      List<String> modelFileNames) {
    this.intraOpThreads = intraOpThreads;
    this.spinning = spinning;
    this.cpuMemoryArena = cpuMemoryArena;
    this.memoryPattern = memoryPattern;
    this.xnnpack = xnnpack;
    this.modelFileNames = modelFileNames;
  }

  /**
   * The server profile: {@code intraOpThreads} in the shared pool, spinning or not, ONNX Runtime's memory defaults,
   * {@code model.onnx}.
   */
  public static OnnxRuntimeProfile server(int intraOpThreads, boolean spinning) {
    return new OnnxRuntimeProfile(checkThreads(intraOpThreads), spinning, true, true, false, List.of("model.onnx"));
  }

  /**
   * The edge profile: {@code intraOpThreads} in the shared pool without spinning, no CPU memory arena, no memory
   * patterns, XNNPACK when the runtime offers it, {@code model.ort} then {@code model.onnx}.
   */
  public static OnnxRuntimeProfile edge(int intraOpThreads) {
    return new OnnxRuntimeProfile(
        checkThreads(intraOpThreads), false, false, false, true, List.of("model.ort", "model.onnx"));
  }

  private static int checkThreads(int intraOpThreads) {
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException("intraOpThreads: " + intraOpThreads + " (expected: >= 1)");
    }
    return intraOpThreads;
  }

  /** The size of the intra-op pool this profile asks for (the pool is shared, so the first engine's ask wins). */
  public int intraOpThreads() {
    return intraOpThreads;
  }

  /** Whether idle pool threads spin, trading CPU for a little latency. */
  public boolean spinning() {
    return spinning;
  }

  /** Whether sessions keep freed CPU memory in an arena for later runs rather than returning it. */
  public boolean cpuMemoryArena() {
    return cpuMemoryArena;
  }

  /** Whether sessions pre-plan one allocation for the shapes of earlier runs. */
  public boolean memoryPattern() {
    return memoryPattern;
  }

  /** Whether sessions use the XNNPACK execution provider when the running ONNX Runtime build has it. */
  public boolean xnnpack() {
    return xnnpack;
  }

  /** The model file names to look for in a version folder, most preferred first. */
  public List<String> modelFileNames() {
    return modelFileNames;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof OnnxRuntimeProfile)) {
      return false;
    }
    OnnxRuntimeProfile other = (OnnxRuntimeProfile) o;
    return intraOpThreads == other.intraOpThreads
        && spinning == other.spinning
        && cpuMemoryArena == other.cpuMemoryArena
        && memoryPattern == other.memoryPattern
        && xnnpack == other.xnnpack
        && modelFileNames.equals(other.modelFileNames);
  }

  @Override
  public int hashCode() {
    return Objects.hash(intraOpThreads, spinning, cpuMemoryArena, memoryPattern, xnnpack, modelFileNames);
  }

  @Override
  public String toString() {
    return "OnnxRuntimeProfile{intraOpThreads=" + intraOpThreads
        + ", spinning=" + spinning
        + ", cpuMemoryArena=" + cpuMemoryArena
        + ", memoryPattern=" + memoryPattern
        + ", xnnpack=" + xnnpack
        + ", modelFileNames=" + modelFileNames
        + "}";
  }
}
