package io.serval.engine.openvino;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import io.serval.core.ModelSignature;
import io.serval.engine.Device;
import io.serval.engine.EngineAvailability;
import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelLoadException;
import io.serval.engine.openvino.internal.OvApi;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs OpenVINO IR ({@code model.xml} + {@code model.bin}) and ONNX models on the CPU with OpenVINO, through its C
 * API. The runtime is not bundled: it comes from an installed {@code openvino} wheel or a folder the operator names
 * (see {@link RuntimeLocator}); without one the engine reports itself unavailable, listing where it looked.
 *
 * <p>Settings (server configuration, {@code engines.openvino}): {@code lib_dir}, the folder holding {@code
 * libopenvino_c.so}. Model parameters: {@code performance_hint}, {@code threads}, {@code num_streams}, {@code
 * inference_precision} (see {@link CompileOptions}).
 *
 * <pre>{@code
 * InferenceEngine engine = OpenVinoEngine.create(EngineContext.of(2, Map.of()));
 * ModelInstance instance = engine.open(InstanceSpec.of("digits", 1, xml, Device.cpu(), 0, Map.of()));
 * List<Tensor> outputs = instance.run(List.of(x), List.of("probabilities"), RunContext.of(scope)).outputs();
 * }</pre>
 */
public final class OpenVinoEngine implements InferenceEngine {
  /** The name models select this engine by. */
  public static final String NAME = "openvino";

  private static final Logger log = LoggerFactory.getLogger(OpenVinoEngine.class);

  private final @Nullable OpenVinoRuntime runtime;
  private final EngineAvailability availability;
  private final int cpuThreads;

  private OpenVinoEngine(@Nullable OpenVinoRuntime runtime, EngineAvailability availability, int cpuThreads) {
    this.runtime = runtime;
    this.availability = availability;
    this.cpuThreads = cpuThreads;
  }

  /** Creates the engine; when no usable OpenVINO runtime is found, the engine reports itself unavailable. */
  public static OpenVinoEngine create(EngineContext context) {
    return create(context, RuntimeLocator.ofThisProcess());
  }

  static OpenVinoEngine create(EngineContext context, RuntimeLocator locator) {
    for (String setting : context.settings().keySet()) {
      if (!setting.equals(RuntimeLocator.LIB_DIR_SETTING)) {
        return unavailable(
            context, "unknown setting '" + setting + "' (expected: " + RuntimeLocator.LIB_DIR_SETTING + ")");
      }
    }
    RuntimeLocator.Search search = locator.locate(context.settings().get(RuntimeLocator.LIB_DIR_SETTING));
    if (search.library == null) {
      return unavailable(context, search.notFoundMessage());
    }
    try {
      OpenVinoRuntime runtime = OpenVinoRuntime.load(search.library);
      log.info("openvino {} from {} on {}", runtime.version, runtime.library, runtime.cpuName);
      return new OpenVinoEngine(runtime, EngineAvailability.available(), context.cpuThreads());
    } catch (IllegalStateException | LinkageError e) {
      return unavailable(
          context, "OpenVINO runtime " + search.library + " (found in " + search.origin + ") cannot be used: " + e);
    }
  }

  private static OpenVinoEngine unavailable(EngineContext context, String reason) {
    return new OpenVinoEngine(null, EngineAvailability.unavailable(reason), context.cpuThreads());
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
    return List.of("model.xml", "model.onnx");
  }

  /**
   * OpenVINO has no thread pool shared across compiled models: each instance runs on its own CPU stream
   * executor, capped at the budget.
   */
  @Override
  public String threadingSummary() {
    if (runtime == null) {
      return "none (" + availability + ")";
    }
    String threads = cpuThreads + " intra-op thread" + (cpuThreads == 1 ? "" : "s");
    return "up to " + threads + " per instance (INFERENCE_NUM_THREADS, LATENCY hint, one stream; parameter threads"
        + " may lower it); OpenVINO shares no pool across compiled models, so instances running at once use up to "
        + threads + " each";
  }

  /** The library this engine loaded, or {@code null} when it is unavailable. */
  @Nullable Path library() {
    return runtime == null ? null : runtime.library;
  }

  @Override
  public ModelSignature inspect(Path modelFile) throws ModelLoadException {
    OpenVinoRuntime runtime = requireAvailable();
    ModelReader reader = new ModelReader(runtime);
    Pointer model = reader.read(modelFile);
    try {
      return reader.signature(modelFile, model);
    } finally {
      runtime.api.ov_model_free(model);
    }
  }

  @Override
  public ModelInstance open(InstanceSpec spec) throws ModelLoadException {
    OpenVinoRuntime runtime = requireAvailable();
    if (spec.device().kind() != Device.Kind.CPU) {
      throw new ModelLoadException(spec + ": the openvino engine runs on the CPU only (asked: " + spec.device() + ")");
    }
    CompileOptions options = CompileOptions.parse(spec.toString(), spec.parameters(), cpuThreads);
    ModelReader reader = new ModelReader(runtime);
    OvApi api = runtime.api;
    Pointer model = reader.read(spec.modelFile());
    Pointer compiled;
    ModelSignature signature;
    try {
      signature = reader.signature(spec.modelFile(), model);
      Object[] properties = options.properties(runtime.keys);
      PointerByReference compiledRef = new PointerByReference();
      int status =
          api.ov_core_compile_model(
              runtime.core, model, OpenVinoRuntime.DEVICE, properties.length, compiledRef, properties);
      if (status != OvApi.OK) {
        throw new ModelLoadException(
            "openvino cannot compile " + spec.modelFile() + " for the CPU: " + runtime.describe(status));
      }
      compiled = compiledRef.getValue();
    } finally {
      // The compiled model keeps what it needs of the model.
      api.ov_model_free(model);
    }
    PointerByReference request = new PointerByReference();
    int status = api.ov_compiled_model_create_infer_request(compiled, request);
    if (status != OvApi.OK) {
      api.ov_compiled_model_free(compiled);
      throw new ModelLoadException(
          "openvino cannot create an infer request for " + spec.modelFile() + ": " + runtime.describe(status));
    }
    return new OpenVinoInstance(runtime, compiled, request.getValue(), signature, spec.toString());
  }

  private OpenVinoRuntime requireAvailable() throws ModelLoadException {
    if (runtime == null) {
      throw new ModelLoadException("the openvino engine is " + availability);
    }
    return runtime;
  }

  /** The runtime is process-wide and outlives engines; compiled models are freed by their instances. */
  @Override
  public void close() {}
}
