package io.serval.server.testengine;

import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import io.serval.engine.InferenceEngineProvider;

/** Makes {@link TestEngine} available as {@code backend: test} on the test class path. */
public final class TestEngineProvider implements InferenceEngineProvider {
  @Override
  public String name() {
    return "test";
  }

  @Override
  public InferenceEngine create(EngineContext context) {
    return new TestEngine();
  }
}
