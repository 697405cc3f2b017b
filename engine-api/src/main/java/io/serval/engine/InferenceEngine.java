package io.serval.engine;

import io.serval.core.ModelSignature;
import java.nio.file.Path;
import java.util.List;

/**
 * An inference runtime (ONNX Runtime, OpenVINO, TensorRT ...) that loads model files into {@link
 * ModelInstance}s. Engines hold no HTTP or protocol concerns; the server reaches them only through this
 * interface.
 */
public interface InferenceEngine extends AutoCloseable {
  /** The name models select the engine by in their configuration ({@code onnxruntime}). */
  String name();

  /** Whether this engine can load models on this machine. */
  EngineAvailability availability();

  /** The model file names this engine loads from a version folder, most preferred first. */
  List<String> modelFileNames();

  /** Reads a model file's signature without keeping it loaded. */
  ModelSignature inspect(Path modelFile) throws ModelLoadException;

  /**
   * The kinds of device this engine's instances run on, the one a model gets when its configuration names none
   * first. By default the host CPU only.
   */
  default List<Device.Kind> deviceKinds() {
    return List.of(Device.Kind.CPU);
  }

  /** Loads one instance of a model. */
  ModelInstance open(InstanceSpec spec) throws ModelLoadException;

  /**
   * How many intra-op threads one run of one instance may use, and whether that pool is shared by all
   * instances; said in the log and the model configuration so the thread budget is visible.
   */
  String threadingSummary();

  @Override
  void close();
}
