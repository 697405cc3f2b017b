package io.serval.engine.openvino;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.engine.ModelLoadException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Model parameters become compile properties within the engine's CPU budget, or a message naming what is wrong. */
class CompileOptionsTest {
  private static final int BUDGET = 4;

  @Test
  void defaultsToLatencyWithTheWholeBudgetInFullPrecision() throws ModelLoadException {
    CompileOptions options = CompileOptions.parse("m", Map.of(), BUDGET);

    assertThat(options.performanceHint).isEqualTo("LATENCY");
    assertThat(options.threads).isEqualTo(BUDGET);
    assertThat(options.numStreams).as("OpenVINO chooses").isZero();
    assertThat(options.inferencePrecision).isEqualTo("f32");
  }

  @Test
  void readsEveryParameter() throws ModelLoadException {
    CompileOptions options =
        CompileOptions.parse(
            "m",
            Map.of("performance_hint", "THROUGHPUT", "threads", "3", "num_streams", "3", "inference_precision", "BF16"),
            BUDGET);

    assertThat(options.performanceHint).isEqualTo("THROUGHPUT");
    assertThat(options.threads).isEqualTo(3);
    assertThat(options.numStreams).isEqualTo(3);
    assertThat(options.inferencePrecision).isEqualTo("bf16");
  }

  @Test
  void refusesMoreStreamsThanThreads() {
    assertThatThrownBy(() -> CompileOptions.parse("m", Map.of("threads", "2", "num_streams", "3"), BUDGET))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("m: parameter num_streams: 3 (expected: 1 to 2, the instance's threads)");
  }

  @Test
  void refusesThreadsThatAreNotANumber() {
    assertThatThrownBy(() -> CompileOptions.parse("m", Map.of("threads", "all"), BUDGET))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("m: parameter threads: 'all' (expected: 1 to 4, the openvino engine's CPU thread budget)");
  }

  @Test
  void refusesZeroThreads() {
    assertThatThrownBy(() -> CompileOptions.parse("m", Map.of("threads", "0"), BUDGET))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("m: parameter threads: 0 (expected: 1 to 4, the openvino engine's CPU thread budget)");
  }

  @Test
  void refusesAnUnknownHint() {
    assertThatThrownBy(() -> CompileOptions.parse("m", Map.of("performance_hint", "FAST"), BUDGET))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("m: parameter performance_hint: 'FAST' (expected: LATENCY or THROUGHPUT)");
  }

  @Test
  void refusesAnUnknownPrecision() {
    assertThatThrownBy(() -> CompileOptions.parse("m", Map.of("inference_precision", "i8"), BUDGET))
        .isInstanceOf(ModelLoadException.class)
        .hasMessage("m: parameter inference_precision: 'i8' (expected: f32, bf16 or f16)");
  }
}
