package io.serval.engine.openvino;

import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;

/** Registers the OpenVINO engine with {@link java.util.ServiceLoader}. */
public final class OpenVinoEngineProvider implements InferenceEngineProvider {
  @Override
  public String name() {
    return OpenVinoEngine.NAME;
  }

  @Override
  public InferenceEngine create(EngineContext context) {
    return OpenVinoEngine.create(context);
  }
}
