package io.serval.dag.operators;

import io.serval.core.DataType;
import io.serval.core.InvalidInputException;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.NodeContext;
import io.serval.dag.NodeParameters;
import io.serval.dag.Operator;
import io.serval.dag.OperatorFactory;
import io.serval.dag.ServableResolver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: ocr.ctc_decode}, {@code params: {dictionary, blank, append_space, space_threshold}}: input {@code
 * probabilities} (FP32
 * [lines, steps, classes], what a CTC text recognition model gives, as PP-OCR's {@code softmax_11.tmp_0}), outputs
 * {@code text} (BYTES [lines], UTF-8) and {@code scores} (FP32 [lines]): each line decoded greedily.
 *
 * <p>The classes are the lines of {@code dictionary} in order, then a space when {@code append_space} (default
 * true), with the CTC blank put in at index {@code blank} (default 0): with the defaults, PaddleOCR's, class 0 is
 * the blank, class i the dictionary's line i (counted from 1) and the last class the space. So there are exactly
 * lines + 1 classes, + 1 with the space.
 *
 * <p>Decoding: each step's most probable class (ties to the lower index; NaN above every number, as in argmax),
 * then a class equal to the previous step's dropped, then blanks dropped (so a blank between two equal classes
 * keeps both), and the remaining classes' characters joined. The score is the mean of the remaining steps'
 * probabilities, computed in double precision and rounded once to FP32; a line where nothing remains is the empty
 * string with score 0.
 *
 * <p>{@code space_threshold} (a probability, default 0: off; needs the appended space) puts back spaces a
 * recogniser drops between words of Latin letters and digits, as PP-OCR's general Chinese model often does: between
 * two kept classes that are each an ASCII letter or digit, with no space kept between them, a space is written
 * when the space class's probability reaches the threshold at any step between them (after the last step of the
 * one, before the first of the next). The model saw a space there but gave it less than the blank; letters of one
 * word rarely give it even 1%. It leaves text in other scripts as the model read it. The spaces it adds are not
 * scored.
 *
 * <p>The dictionary is a UTF-8 file, relative to the pipeline's folder or absolute, of one class per line: lines
 * end with \n, \r\n or \r (the last one may end without), a byte order mark at its start is skipped, and a line is
 * taken as it is, spaces included. An empty line is a class of its own whose character is empty, as PaddleOCR reads
 * it, so the lines after it keep their classes (a stray empty line at the end shows as a count of classes one off).
 *
 * <p>Refused at load: a dictionary that is missing, unreadable, not UTF-8 or without lines, a {@code blank}
 * outside the classes, and a number of classes other than the dictionary's; that last per request as invalid
 * input when the classes are not known at load.
 */
public final class CtcDecodeOperator implements Operator {
  private final byte[][] characters;
  private final int blank;
  private final String expected;
  /** Whether each class is a single ASCII letter or digit, the classes {@code space_threshold} separates. */
  private final boolean[] wordCharacters;
  /** The space's class, or -1 without one. */
  private final int space;
  private final float spaceThreshold;

  private CtcDecodeOperator(byte[][] characters, int blank, String expected, int space, float spaceThreshold) {
    this.characters = characters;
    this.blank = blank;
    this.expected = expected;
    this.space = space;
    this.spaceThreshold = spaceThreshold;
    this.wordCharacters = new boolean[characters.length];
    for (int c = 0; c < characters.length; c++) {
      wordCharacters[c] = characters[c].length == 1 && Character.isLetterOrDigit(characters[c][0]);
    }
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "ocr.ctc_decode";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("dictionary", "blank", "append_space", "space_threshold"));
      Path file = parameters.file("dictionary");
      String name = parameters.string("dictionary");
      List<String> lines = lines(file, name);
      boolean appendSpace = parameters.bool("append_space", true);
      List<String> classes = new ArrayList<>(lines);
      if (appendSpace) {
        classes.add(" ");
      }
      int blank = parameters.integer("blank", 0, 0, classes.size());
      classes.add(blank, "");
      byte[][] characters = new byte[classes.size()][];
      for (int i = 0; i < characters.length; i++) {
        characters[i] = classes.get(i).getBytes(StandardCharsets.UTF_8);
      }
      String expected = characters.length + ", for the blank" + (appendSpace ? ", " : " and ") + "the "
          + lines.size() + " lines of params.dictionary '" + name + "'"
          + (appendSpace ? " and the appended space" : "");
      double spaceThreshold = parameters.number("space_threshold", 0);
      if (spaceThreshold < 0 || spaceThreshold > 1) {
        throw new IllegalArgumentException("params.space_threshold: is " + spaceThreshold + " (expected: a"
            + " probability from 0 to 1)");
      }
      if (spaceThreshold > 0 && !appendSpace) {
        throw new IllegalArgumentException("params.space_threshold: needs the space class (append_space: true)");
      }
      int space = appendSpace ? (blank <= lines.size() ? characters.length - 1 : characters.length - 2) : -1;
      return new CtcDecodeOperator(characters, blank, expected, space, (float) spaceThreshold);
    }

    /** The dictionary's lines. */
    private static List<String> lines(Path file, String name) {
      String text;
      try {
        text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
      } catch (CharacterCodingException e) {
        throw new IllegalArgumentException("params.dictionary: '" + name + "' is not UTF-8 text (expected: one"
            + " character per line, in UTF-8)");
      } catch (IOException e) {
        throw new IllegalArgumentException("params.dictionary: '" + name + "' cannot be read: " + e.getMessage());
      }
      List<String> lines = text.lines().toList();
      if (!lines.isEmpty() && lines.get(0).startsWith("\uFEFF")) {
        lines = new ArrayList<>(lines);
        lines.set(0, lines.get(0).substring(1));
      }
      if (lines.isEmpty()) {
        throw new IllegalArgumentException("params.dictionary: '" + name + "' has no lines (expected: one character"
            + " per line, in UTF-8)");
      }
      return lines;
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("probabilities");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec probabilities = inputs.get("probabilities");
    long[] shape = probabilities.shape();
    if (probabilities.dataType() != DataType.FP32 || shape.length != 3) {
      throw new IllegalArgumentException("inputs.probabilities: " + probabilities.dataType().wireName()
          + Shapes.format(shape) + " (expected: FP32 [lines, steps, classes])");
    }
    if (shape[2] >= 0 && shape[2] != characters.length) {
      throw new IllegalArgumentException("inputs.probabilities: shape " + Shapes.format(shape) + " has " + shape[2]
          + " classes (expected: " + expected + ")");
    }
    return List.of(TensorSpec.of("text", DataType.BYTES, shape[0]), TensorSpec.of("scores", DataType.FP32,
        shape[0]));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor probabilities = inputs.get("probabilities");
    long[] shape = probabilities.shape();
    if (probabilities.dataType() != DataType.FP32 || shape.length != 3) {
      throw new InvalidInputException("input 'probabilities': " + probabilities.dataType().wireName()
          + Shapes.format(shape) + " (expected: FP32 [lines, steps, classes])");
    }
    if (shape[2] != characters.length) {
      throw new InvalidInputException("input 'probabilities': shape " + Shapes.format(shape) + " has " + shape[2]
          + " classes (expected: " + expected + ")");
    }
    int lines = (int) shape[0];
    int steps = (int) shape[1];
    int classes = characters.length;
    FloatBuffer in = probabilities.floats();
    byte[][] texts = new byte[lines][];
    ByteBuffer scores = context.memory().allocate((long) lines * Float.BYTES);
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    // The classes kept in a line, with the first and last step of each.
    int[] kept = new int[steps];
    int[] first = new int[steps];
    int[] last = new int[steps];
    long textBytes = 0;
    for (int n = 0; n < lines; n++) {
      double sum = 0;
      int count = 0;
      int previous = -1;
      for (int t = 0; t < steps; t++) {
        int start = (n * steps + t) * classes;
        int best = 0;
        float max = in.get(start);
        for (int c = 1; c < classes && !Float.isNaN(max); c++) {
          float value = in.get(start + c);
          if (value > max || Float.isNaN(value)) {
            max = value;
            best = c;
          }
        }
        if (best != previous && best != blank) {
          kept[count] = best;
          first[count] = t;
          last[count] = t;
          sum += max;
          count++;
        } else if (best == previous && best != blank) {
          last[count - 1] = t;
        }
        previous = best;
      }
      text.reset();
      for (int k = 0; k < count; k++) {
        if (k > 0 && spaceThreshold > 0 && wordCharacters[kept[k - 1]] && wordCharacters[kept[k]]
            && spaceSeen(in, (n * steps) * classes, classes, last[k - 1] + 1, first[k])) {
          text.write(' ');
        }
        text.writeBytes(characters[kept[k]]);
      }
      texts[n] = text.toByteArray();
      textBytes += Integer.BYTES + texts[n].length;
      scores.putFloat(n * Float.BYTES, count == 0 ? 0 : (float) (sum / count));
    }
    ByteBuffer encoded = context.memory().allocate(textBytes);
    for (byte[] line : texts) {
      encoded.putInt(line.length).put(line);
    }
    encoded.flip();
    return CompletableFuture.completedFuture(List.of(
        Tensor.of("text", DataType.BYTES, new long[] {lines}, encoded),
        Tensor.of("scores", DataType.FP32, new long[] {lines}, scores)));
  }

  /** Whether the space class reaches the threshold at a step from {@code from} to before {@code to}. */
  private boolean spaceSeen(FloatBuffer in, int line, int classes, int from, int to) {
    for (int t = from; t < to; t++) {
      if (in.get(line + t * classes + space) >= spaceThreshold) {
        return true;
      }
    }
    return false;
  }

}
