package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanCacheKeyTest {
  private static final String SHA = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final String FLAGS = "precision=fp32;workspace=1073741824;profile=x:1x3/8x3/8x3";

  @Test
  void hashesTheModelFile(@TempDir Path dir) throws Exception {
    Path model = Files.write(dir.resolve("model.onnx"), "abc".getBytes(StandardCharsets.US_ASCII));

    assertThat(PlanCacheKey.sha256Of(model)).isEqualTo(SHA);
  }

  @Test
  void namesTheFileByVersionCapabilityAndAHashOfEverything() {
    PlanCacheKey key = PlanCacheKey.of(SHA, "11.2.0.5", "8.6", FLAGS);

    assertThat(key.fileName()).matches("trt11\\.2\\.0\\.5-sm86-[0-9a-f]{32}\\.plan");
    assertThat(key.canonical()).isEqualTo("model-sha256=" + SHA + "\ntensorrt=11.2.0.5\ncompute-capability=8.6\nflags="
        + FLAGS + "\n");
    assertThat(PlanCacheKey.of(SHA, "11.2.0.5", "8.6", FLAGS).fileName()).isEqualTo(key.fileName());
    assertThat(PlanCacheKey.of(SHA, "11.2.0.5", "8.6", FLAGS)).isEqualTo(key).hasSameHashCodeAs(key);
  }

  @Test
  void everyPartChangesTheFileName() {
    String name = PlanCacheKey.of(SHA, "11.2.0.5", "8.6", FLAGS).fileName();

    assertThat(PlanCacheKey.of(SHA.replace('b', 'c'), "11.2.0.5", "8.6", FLAGS).fileName()).isNotEqualTo(name);
    assertThat(PlanCacheKey.of(SHA, "11.2.1.3", "8.6", FLAGS).fileName()).isNotEqualTo(name);
    assertThat(PlanCacheKey.of(SHA, "11.2.0.5", "8.9", FLAGS).fileName()).isNotEqualTo(name);
    assertThat(PlanCacheKey.of(SHA, "11.2.0.5", "8.6", FLAGS.replace("fp32", "tf32")).fileName()).isNotEqualTo(name);
    assertThat(PlanCacheKey.of(SHA, "11.2.0.5", "8.6", FLAGS.replace("8x3/8x3", "16x3/16x3")).fileName())
        .isNotEqualTo(name);
  }

  @Test
  void rejectsPartsNotInTheirForm() {
    assertThatThrownBy(() -> PlanCacheKey.of("abc", "11.2", "8.6", FLAGS))
        .hasMessage("modelSha256: 'abc' (expected: 64 lower-case hex digits)");
    assertThatThrownBy(() -> PlanCacheKey.of(SHA, "11.2-rc", "8.6", FLAGS))
        .hasMessage("tensorRtVersion: '11.2-rc' (expected: such as 11.2.0.5)");
    assertThatThrownBy(() -> PlanCacheKey.of(SHA, "11.2", "sm86", FLAGS))
        .hasMessage("computeCapability: 'sm86' (expected: major.minor, such as 8.6)");
    assertThatThrownBy(() -> PlanCacheKey.of(SHA, "11.2", "8.6", "a\nb"))
        .hasMessage("buildFlags: 'a\nb' (expected: one non-empty line)");
  }
}
