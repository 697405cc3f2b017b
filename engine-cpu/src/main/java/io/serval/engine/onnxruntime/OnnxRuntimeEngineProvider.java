package io.serval.engine.onnxruntime;

import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;

/** Registers the ONNX Runtime engine with {@link java.util.ServiceLoader}. */
public final class OnnxRuntimeEngineProvider implements InferenceEngineProvider {
  @Override
  public String name() {
    return OnnxRuntimeEngine.NAME;
  }

  /** ONNX Runtime's process-wide intra-op pool, which every ONNX Runtime engine shares. */
  @Override
  public String threadPool() {
    return OnnxRuntimeEngine.NAME;
  }

  @Override
  public InferenceEngine create(EngineContext context) {
    return OnnxRuntimeEngine.create(context);
  }
}
