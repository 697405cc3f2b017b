package io.serval.engine.onnxruntime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.engine.EngineContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The two profiles, and how an engine holds its profile to the server's thread budget. */
class OnnxRuntimeProfileTest {
  @Test
  void serverProfileKeepsOnnxRuntimesMemoryDefaultsAndLoadsOnnxFiles() {
    OnnxRuntimeProfile profile = OnnxRuntimeProfile.server(4, true);

    assertThat(profile.intraOpThreads()).isEqualTo(4);
    assertThat(profile.spinning()).isTrue();
    assertThat(profile.cpuMemoryArena()).isTrue();
    assertThat(profile.memoryPattern()).isTrue();
    assertThat(profile.xnnpack()).isFalse();
    assertThat(profile.modelFileNames()).containsExactly("model.onnx");
  }

  @Test
  void edgeProfileNeverSpinsKeepsNoArenaAndPrefersOrtFiles() {
    OnnxRuntimeProfile profile = OnnxRuntimeProfile.edge(2);

    assertThat(profile.intraOpThreads()).isEqualTo(2);
    assertThat(profile.spinning()).isFalse();
    assertThat(profile.cpuMemoryArena()).isFalse();
    assertThat(profile.memoryPattern()).isFalse();
    assertThat(profile.xnnpack()).isTrue();
    assertThat(profile.modelFileNames()).containsExactly("model.ort", "model.onnx");
  }

  @Test
  void profilesAreValues() {
    assertThat(OnnxRuntimeProfile.edge(2))
        .isEqualTo(OnnxRuntimeProfile.edge(2))
        .isNotEqualTo(OnnxRuntimeProfile.edge(1));
    assertThat(OnnxRuntimeProfile.edge(2)).hasSameHashCodeAs(OnnxRuntimeProfile.edge(2));
    assertThat(OnnxRuntimeProfile.server(2, false)).isNotEqualTo(OnnxRuntimeProfile.edge(2));
  }

  @Test
  void rejectsAPoolOfNoThreads() {
    assertThatThrownBy(() -> OnnxRuntimeProfile.edge(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("intraOpThreads: 0 (expected: >= 1)");
  }

  @Test
  void rejectsAProfileLargerThanTheEnginesBudget() {
    EngineContext budget = EngineContext.of(2, Map.of());

    assertThatThrownBy(() -> OnnxRuntimeEngine.create("edge", budget, OnnxRuntimeProfile.edge(3)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("intraOpThreads: 3 (expected: <= cpuThreads, 2)");
  }
}
