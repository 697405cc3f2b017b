package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The golden outputs that {@code text.tokenize}'s test (in {@code dag/}) checks the operator against are what the
 * Python {@code tokenizers} package makes of the same {@code tokenizer.json} today: the package runs here, in the
 * project's test environment, and {@code make_tokenizer.py --check} fails when the committed golden file differs.
 */
class TokenizerParityTest {
  private static final Path SCRIPT = Path.of("..", "dag", "src", "test", "resources", "tokenizer", "make_tokenizer.py")
      .toAbsolutePath().normalize();

  @Test
  void theGoldenOutputsAreThoseOfThePythonTokenizersPackage() throws Exception {
    PythonClients.setUp();

    String output = PythonClients.run(List.of(PythonClients.python(), SCRIPT.toString(), "--check"), Map.of(), 300);

    assertThat(output).contains("golden.json");
  }
}
