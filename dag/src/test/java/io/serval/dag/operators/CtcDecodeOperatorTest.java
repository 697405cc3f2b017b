package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.floats;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.strings;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ocr.ctc_decode: greedy CTC decoding against src/test/resources/ocr/keys.txt, whose 4 lines are a, b, 猫 (3 bytes
 * of UTF-8) and é (2 bytes); with the defaults the classes are 0 blank, 1 a, 2 b, 3 猫, 4 é and 5 the space.
 */
class CtcDecodeOperatorTest {
  private static final Path FOLDER = folder();

  private static Path folder() {
    try {
      return Path.of(CtcDecodeOperatorTest.class.getResource("/ocr").toURI());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String decode(String params, String dims) {
    return yaml("ocr.ctc_decode", params, "probabilities", "FP32", dims, "text", "scores");
  }

  /**
   * Probabilities [lines, steps, classes]: at each step class {@code best[n][t]} has probability {@code top[n][t]}
   * and every other class 1/64, less than any of {@code top}.
   */
  private static Tensor probabilities(int classes, int[][] best, float[][] top) {
    int steps = best[0].length;
    float[] values = new float[best.length * steps * classes];
    for (int n = 0; n < best.length; n++) {
      for (int t = 0; t < steps; t++) {
        int start = (n * steps + t) * classes;
        for (int c = 0; c < classes; c++) {
          values[start + c] = c == best[n][t] ? top[n][t] : 1f / 64;
        }
      }
    }
    return Tensor.ofFloats("probabilities", new long[] {best.length, steps, classes}, values);
  }

  @Test
  void dropsRepeatsThenBlanksAndAveragesTheKeptProbabilities() throws Exception {
    Pipeline pipeline = compile(decode("{dictionary: keys.txt}", "[-1, -1, 6]"), FOLDER);
    assertThat(pipeline.signature().outputs().toString()).isEqualTo("[text:BYTES[-1], scores:FP32[-1]]");

    List<Tensor> out = run(pipeline, probabilities(6,
        new int[][] {{1, 1, 0, 1, 5, 3, 3, 4}, {2, 0, 0, 2, 2, 0, 0, 0}},
        new float[][] {{0.5f, 0.75f, 1, 0.625f, 0.875f, 0.5f, 0.25f, 0.75f}, {0.75f, 1, 1, 0.25f, 0.5f, 1, 1, 1}}));

    // Line 0: a, a (a repeat, dropped), blank, a (kept: the blank parted it from the first), space, 猫, 猫 (dropped),
    // é: "aa 猫é", and the mean of the five kept steps (0.5 + 0.625 + 0.875 + 0.5 + 0.75) / 5 = 3.25 / 5 = 0.65.
    // Line 1, shorter: b, two blanks, b, b (dropped), blanks: "bb", (0.75 + 0.25) / 2 = 0.5.
    assertThat(strings(out.get(0))).containsExactly("aa 猫é", "bb");
    assertThat(out.get(0).bytesElements().get(0)).hasSize(1 + 1 + 1 + 3 + 2);
    assertThat(out.get(1).shape()).containsExactly(2);
    assertThat(floats(out.get(1))).containsExactly(0.65f, 0.5f);
  }

  @Test
  void spaceThresholdPutsASpaceBetweenLettersWhereTheModelSawOneBelowTheBlank() throws Exception {
    Pipeline pipeline = compile(decode("{dictionary: keys.txt, space_threshold: 0.05}", "[-1, -1, 6]"), FOLDER);
    // Classes 0 blank, 1 a, 2 b, 3 猫, 4 é, 5 space. Each step: the best class at 0.9, the space at the given
    // probability (below the blank's 0.9 in the blank steps), the rest sharing what is left.
    int[][] best = {{1, 0, 2, 0, 0, 1}, {1, 0, 3, 0, 0, 2}, {1, 1, 0, 0, 2, 2}};
    float[][] spaceAt = {{0, 0.01f, 0, 0.04f, 0.06f, 0}, {0, 0.5f, 0, 0.5f, 0.5f, 0}, {0, 0, 0.2f, 0.001f, 0, 0}};
    int steps = 6;
    float[] values = new float[3 * steps * 6];
    for (int n = 0; n < 3; n++) {
      for (int t = 0; t < steps; t++) {
        int start = (n * steps + t) * 6;
        for (int c = 0; c < 6; c++) {
          values[start + c] = c == best[n][t] ? 0.9f : c == 5 ? spaceAt[n][t] : 0.001f;
        }
      }
    }

    List<Tensor> out = run(pipeline, Tensor.ofFloats("probabilities", new long[] {3, steps, 6}, values));

    // Line 0: a, b (the space at 0.01 between them: under 0.05), then b to a with 0.04 and 0.06 between: a space.
    // Line 1: a to 猫 and 猫 to b: spaces seen, but 猫 is not a Latin letter or digit, so none is written.
    // Line 2: a over steps 0-1, b over 4-5: the 0.2 at step 2 lies between them.
    assertThat(strings(out.get(0))).containsExactly("ab a", "a猫b", "a b");
    assertThat(floats(out.get(1))).containsExactly(0.9f, 0.9f, 0.9f);
  }

  @Test
  void takesTheBlankAnywhereAndNoSpace() throws Exception {
    // Without the space and with the blank last: 0 a, 1 b, 2 猫, 3 é, 4 blank.
    Pipeline pipeline = compile(decode("{dictionary: keys.txt, blank: 4, append_space: false}", "[-1, -1, 5]"),
        FOLDER);

    List<Tensor> out = run(pipeline, probabilities(5, new int[][] {{0, 4, 0, 3}, {4, 4, 4, 4}},
        new float[][] {{0.5f, 1, 0.25f, 0.75f}, {1, 1, 1, 1}}));

    // Line 0: a, blank, a, é: "aaé", (0.5 + 0.25 + 0.75) / 3 = 0.5. Line 1: only blanks, the empty line, score 0.
    assertThat(strings(out.get(0))).containsExactly("aaé", "");
    assertThat(floats(out.get(1))).containsExactly(0.5f, 0);

    // No steps at all: every line empty.
    List<Tensor> none = run(pipeline, Tensor.ofFloats("probabilities", new long[] {2, 0, 5}, new float[0]));
    assertThat(strings(none.get(0))).containsExactly("", "");
    assertThat(floats(none.get(1))).containsExactly(0, 0);
  }

  @Test
  void readsLinesEndingInCrLfAfterAByteOrderMarkAndKeepsEmptyLinesAsClasses(@TempDir Path folder)
      throws Exception {
    // A BOM, then x, an empty line and y, each ending in \r\n: classes 0 blank, 1 x, 2 (empty), 3 y, 4 space.
    Files.write(folder.resolve("dict.txt"), "\uFEFFx\r\n\r\ny\r\n".getBytes(StandardCharsets.UTF_8));
    Pipeline pipeline = compile(decode("{dictionary: dict.txt}", "[-1, -1, 5]"), folder);

    List<Tensor> out = run(pipeline, probabilities(5, new int[][] {{1, 2, 3, 4}},
        new float[][] {{1, 0.5f, 0.25f, 0.25f}}));

    // x, the empty class (nothing to write, but a kept step), y, space: "xy ", (1 + 0.5 + 0.25 + 0.25) / 4 = 0.5.
    assertThat(strings(out.get(0))).containsExactly("xy ");
    assertThat(floats(out.get(1))).containsExactly(0.5f);
  }

  @Test
  void refusesADictionaryThatDoesNotFitTheClassesAtLoadOrPerRequest() throws Exception {
    assertThat(problems(decode("{dictionary: keys.txt}", "[-1, -1, 5]"), FOLDER))
        .containsExactly("pipeline.yaml: node 'n': inputs.probabilities: shape [-1,-1,5] has 5 classes (expected: 6,"
            + " for the blank, the 4 lines of params.dictionary 'keys.txt' and the appended space)");
    assertThat(problems(decode("{dictionary: keys.txt, append_space: false}", "[-1, 40, 6]"), FOLDER))
        .containsExactly("pipeline.yaml: node 'n': inputs.probabilities: shape [-1,40,6] has 6 classes (expected: 5,"
            + " for the blank and the 4 lines of params.dictionary 'keys.txt')");

    Pipeline open = compile(decode("{dictionary: keys.txt}", "[-1, -1, -1]"), FOLDER);
    assertThat(invalidInput(open, Tensor.ofFloats("probabilities", new long[] {1, 1, 7}, new float[7])))
        .isEqualTo("pipeline 'p': node 'n': input 'probabilities': shape [1,1,7] has 7 classes (expected: 6, for the"
            + " blank, the 4 lines of params.dictionary 'keys.txt' and the appended space)");
  }

  @Test
  void refusesParamsAndInputsItCannotTake(@TempDir Path folder) throws Exception {
    assertThat(problems(decode("{dictionary: missing.txt}", "[-1, -1, 6]"), FOLDER))
        .containsExactly("pipeline.yaml: node 'n': params.dictionary: no readable file 'missing.txt' in the"
            + " pipeline's folder");
    assertThat(problems(decode("{}", "[-1, -1, 6]"), FOLDER))
        .containsExactly("pipeline.yaml: node 'n': params.dictionary: missing (expected: a string)");
    assertThat(problems(decode("{dictionary: keys.txt, blank: 6}", "[-1, -1, 6]"), FOLDER))
        .containsExactly("pipeline.yaml: node 'n': params.blank: is 6 (expected: an integer from 0 to 5)");
    assertThat(problems(decode("{dictionary: keys.txt, append_space: 1}", "[-1, -1, 6]"), FOLDER))
        .containsExactly("pipeline.yaml: node 'n': params.append_space: is 1 (expected: true or false)");
    assertThat(problems(decode("{dictionary: keys.txt, space_threshold: 2}", "[-1, -1, 6]"), FOLDER))
        .containsExactly("pipeline.yaml: node 'n': params.space_threshold: is 2.0 (expected: a probability from 0"
            + " to 1)");
    assertThat(problems(decode("{dictionary: keys.txt, append_space: false, space_threshold: 0.1}", "[-1, -1, 5]"),
        FOLDER)).containsExactly("pipeline.yaml: node 'n': params.space_threshold: needs the space class"
            + " (append_space: true)");
    assertThat(problems(yaml("ocr.ctc_decode", "{dictionary: keys.txt}", "probabilities", "FP16", "[-1, -1, 6]",
        "text"), FOLDER))
        .containsExactly("pipeline.yaml: node 'n': inputs.probabilities: FP16[-1,-1,6] (expected: FP32 [lines, steps,"
            + " classes])");

    Files.write(folder.resolve("latin1.txt"), new byte[] {'a', '\n', (byte) 0xe9, '\n'});
    assertThat(problems(decode("{dictionary: latin1.txt}", "[-1, -1, 4]"), folder))
        .containsExactly("pipeline.yaml: node 'n': params.dictionary: 'latin1.txt' is not UTF-8 text (expected: one"
            + " character per line, in UTF-8)");
    Files.write(folder.resolve("empty.txt"), new byte[0]);
    assertThat(problems(decode("{dictionary: empty.txt}", "[-1, -1, 2]"), folder))
        .containsExactly("pipeline.yaml: node 'n': params.dictionary: 'empty.txt' has no lines (expected: one"
            + " character per line, in UTF-8)");
  }
}
