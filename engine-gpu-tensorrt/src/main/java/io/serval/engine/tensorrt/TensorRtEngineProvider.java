package io.serval.engine.tensorrt;

import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;

/** Registers the TensorRT engine with {@link java.util.ServiceLoader}. */
public final class TensorRtEngineProvider implements InferenceEngineProvider {
  @Override
  public String name() {
    return TensorRtEngine.NAME;
  }

  /** None: TensorRT computes on the GPU, and each run needs only the calling thread to drive it. */
  @Override
  public String threadPool() {
    return "";
  }

  @Override
  public InferenceEngine create(EngineContext context) {
    return TensorRtEngine.create(context);
  }
}
