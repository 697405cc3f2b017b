package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.longs;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * text.tokenize against the Python {@code tokenizers} package: {@code src/test/resources/tokenizer/golden.json} holds
 * what the package outputs for each case's params and texts with the same {@code tokenizer.json}
 * ({@code make_tokenizer.py} writes both, and {@code --check} tells whether they still agree).
 */
class TextTokenizeOperatorTest {
  private static final List<String> OUTPUTS = List.of("input_ids", "attention_mask", "token_type_ids");
  private static final Path FOLDER = folder();
  private static final JsonNode GOLDEN = golden();

  private static Path folder() {
    try {
      return Path.of(TextTokenizeOperatorTest.class.getResource("/tokenizer/tokenizer.json").toURI()).getParent();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode golden() {
    try {
      return new ObjectMapper().readTree(FOLDER.resolve("golden.json").toFile());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String tokenize(String params, String dims) {
    return yaml("text.tokenize", params, "text", "BYTES", dims, "input_ids", "attention_mask", "token_type_ids");
  }

  /** A case's params as YAML, with {@code tokenizer} and {@code extra} added. */
  private static String params(JsonNode golden, String tokenizer, String extra) {
    StringBuilder params = new StringBuilder("{tokenizer: " + tokenizer);
    for (Map.Entry<String, JsonNode> param : golden.path("params").properties()) {
      params.append(", ").append(param.getKey()).append(": ").append(param.getValue());
    }
    return params.append(extra).append('}').toString();
  }

  private static Tensor texts(JsonNode golden, long... shape) {
    List<byte[]> texts = new ArrayList<>();
    golden.path("texts").forEach(text -> texts.add(text.textValue().getBytes(StandardCharsets.UTF_8)));
    return Tensor.ofBytes("text", shape.length == 0 ? new long[] {texts.size()} : shape, texts);
  }

  /** A golden output: its shape [N, L] and its values row after row. */
  private static long[] expected(JsonNode golden, String output, long[] shape) {
    JsonNode rows = golden.path(output);
    shape[0] = rows.size();
    shape[1] = rows.size() == 0 ? 0 : rows.get(0).size();
    List<Long> values = new ArrayList<>();
    rows.forEach(row -> row.forEach(value -> values.add(value.longValue())));
    return values.stream().mapToLong(Long::longValue).toArray();
  }

  private static void assertGolden(JsonNode golden, List<Tensor> outputs) {
    for (int i = 0; i < OUTPUTS.size(); i++) {
      long[] shape = new long[2];
      long[] values = expected(golden, OUTPUTS.get(i), shape);
      assertThat(outputs.get(i).name()).isEqualTo(OUTPUTS.get(i));
      assertThat(outputs.get(i).shape()).as(golden.path("name").textValue() + ": " + OUTPUTS.get(i) + " shape")
          .containsExactly(shape);
      assertThat(longs(outputs.get(i))).as(golden.path("name").textValue() + ": " + OUTPUTS.get(i))
          .containsExactly(values);
    }
  }

  @Test
  void outputsWhatThePythonTokenizersPackageOutputsForEveryCase() throws Exception {
    assertThat(GOLDEN.path("cases").size()).isEqualTo(7);
    for (JsonNode golden : GOLDEN.path("cases")) {
      Pipeline pipeline = compile(tokenize(params(golden, GOLDEN.path("tokenizer").textValue(), ""), "[-1]"), FOLDER);
      long length = golden.path("params").path("padding").textValue().equals("max_length")
          ? golden.path("params").path("max_length").longValue() : -1;
      assertThat(pipeline.signature().outputs()).map(Object::toString)
          .containsExactly("input_ids:INT64[-1," + length + "]", "attention_mask:INT64[-1," + length + "]",
              "token_type_ids:INT64[-1," + length + "]");
      assertGolden(golden, run(pipeline, texts(golden)));
    }
  }

  @Test
  void ignoresThePaddingAndTruncationTheTokenizerFileSets() throws Exception {
    // The same tokenizer, whose file pads on the left to 7 with [UNK] and truncates on the left to 5.
    for (JsonNode golden : GOLDEN.path("cases")) {
      Pipeline pipeline = compile(tokenize(params(golden, "tokenizer_with_padding.json", ""), "[-1]"), FOLDER);
      assertGolden(golden, run(pipeline, texts(golden)));
    }
  }

  @Test
  void takesRowsOfOneTextAndDefaultsToLongestPaddingOf512() throws Exception {
    JsonNode golden = GOLDEN.path("cases").get(1);
    assertThat(golden.path("params").toString())
        .isEqualTo("{\"max_length\":64,\"padding\":\"longest\",\"truncation\":true,\"add_special_tokens\":true}");
    Pipeline defaults = compile(tokenize("{tokenizer: tokenizer.json}", "[-1, 1]"), FOLDER);
    assertThat(defaults.signature().outputs().get(0).toString()).isEqualTo("input_ids:INT64[-1,-1]");
    assertGolden(golden, run(defaults, texts(golden, golden.path("texts").size(), 1)));

    Pipeline fixed = compile(tokenize("{tokenizer: tokenizer.json, padding: max_length}", "[2, 1]"), FOLDER);
    assertThat(fixed.signature().outputs().get(1).toString()).isEqualTo("attention_mask:INT64[2,512]");
  }

  @Test
  void padsWithTheIdOfPadToken() throws Exception {
    // [UNK] is 1: the padded positions of input_ids, where attention_mask is 0, hold 1 instead of [PAD]'s 0.
    JsonNode golden = GOLDEN.path("cases").get(0);
    Pipeline pipeline = compile(tokenize(params(golden, "tokenizer.json", ", pad_token: '[UNK]'"), "[-1]"), FOLDER);
    List<Tensor> outputs = run(pipeline, texts(golden));
    long[] shape = new long[2];
    long[] ids = expected(golden, "input_ids", shape);
    long[] mask = expected(golden, "attention_mask", shape);
    for (int i = 0; i < ids.length; i++) {
      ids[i] = mask[i] == 0 ? 1 : ids[i];
    }
    assertThat(longs(outputs.get(0))).containsExactly(ids);
    assertThat(longs(outputs.get(1))).containsExactly(mask);
  }

  @Test
  void givesTheSameRowsToRequestsRunningAtOnce() throws Exception {
    JsonNode golden = GOLDEN.path("cases").get(0);
    Pipeline pipeline = compile(tokenize(params(golden, "tokenizer.json", ""), "[-1]"), FOLDER);
    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Callable<List<Tensor>>> requests = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        requests.add(() -> run(pipeline, texts(golden)));
      }
      for (Future<List<Tensor>> outputs : threads.invokeAll(requests)) {
        assertGolden(golden, outputs.get());
      }
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void refusesParamsAndFilesItCannotTake(@TempDir Path elsewhere) throws Exception {
    String node = "pipeline.yaml: node 'n': ";
    assertThat(problems(tokenize("{}", "[-1]"), FOLDER))
        .containsExactly(node + "params.tokenizer: missing (expected: a string)");
    assertThat(problems(tokenize("{tokenizer: missing.json}", "[-1]"), FOLDER))
        .containsExactly(node + "params.tokenizer: no readable file 'missing.json' in the pipeline's folder");
    assertThat(problems(tokenize("{tokenizer: corpus.txt}", "[-1]"), FOLDER))
        .containsExactly(node + "params.tokenizer: 'corpus.txt' is not JSON (Unrecognized token 'The': was expecting"
            + " (JSON String, Number, Array, Object or token 'null', 'true' or 'false') at line 1, column 1)"
            + " (expected: a Hugging Face tokenizer.json)");
    assertThat(problems(tokenize("{tokenizer: golden.json}", "[-1]"), FOLDER))
        .containsExactly(node + "params.tokenizer: 'golden.json' is not a tokenizer the tokenizers library loads"
            + " (expected `,` or `}` at line 2 column 15) (expected: a Hugging Face tokenizer.json)");
    Path empty = Files.createFile(elsewhere.resolve("empty.json"));
    assertThat(problems(tokenize("{tokenizer: '" + empty + "'}", "[-1]"), FOLDER))
        .containsExactly(node + "params.tokenizer: '" + empty + "' is not a JSON object (expected: a Hugging Face"
            + " tokenizer.json)");
    assertThat(problems(tokenize("{tokenizer: tokenizer.json, max_length: 0}", "[-1]"), FOLDER))
        .containsExactly(node + "params.max_length: is 0 (expected: an integer from 1 to 8192)");
    assertThat(problems(tokenize("{tokenizer: tokenizer.json, max_length: 8193}", "[-1]"), FOLDER))
        .containsExactly(node + "params.max_length: is 8193 (expected: an integer from 1 to 8192)");
    assertThat(problems(tokenize("{tokenizer: tokenizer.json, max_length: 1}", "[-1]"), FOLDER))
        .containsExactly(node + "params.max_length: is 1 (expected: at least 2, the special tokens"
            + " 'tokenizer.json' adds to every text)");
    assertThat(problems(tokenize("{tokenizer: tokenizer.json, padding: both}", "[-1]"), FOLDER))
        .containsExactly(node + "params.padding: is both (expected one of: longest, max_length)");
    assertThat(problems(tokenize("{tokenizer: tokenizer.json, truncation: 'yes'}", "[-1]"), FOLDER))
        .containsExactly(node + "params.truncation: is yes (expected: true or false)");
    assertThat(problems(tokenize("{tokenizer: tokenizer.json, pad_token: '<pad>'}", "[-1]"), FOLDER))
        .containsExactly(node + "params.pad_token: '<pad>' is not a token of 'tokenizer.json' (expected: one of its"
            + " added tokens or of its model's vocabulary, e.g. [PAD] or <pad>)");
    assertThat(problems(tokenize("{tokenizer: tokenizer.json, stride: 2}", "[-1]"), FOLDER))
        .containsExactly(node + "params.stride: unknown parameter (expected one of: tokenizer, max_length, padding,"
            + " truncation, add_special_tokens, pad_token, max_bytes, allow_empty)");
    assertThat(problems(tokenize("{tokenizer: tokenizer.json}", "[-1, 2]"), FOLDER))
        .containsExactly(node + "inputs.text: BYTES[-1,2] (expected: BYTES [N] or [N, 1], one UTF-8 text per row)");
  }

  @Test
  void refusesTextsThatAreNotUtf8OrTooLongWithoutTruncation() throws Exception {
    Pipeline pipeline = compile(tokenize("{tokenizer: tokenizer.json, max_length: 16, truncation: false}", "[-1]"),
        FOLDER);
    byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);
    assertThat(invalidInput(pipeline, OperatorHarness.bytes("text", hello, new byte[] {'a', (byte) 0xc3, '('})))
        .isEqualTo("pipeline 'p': node 'n': input 'text': element 1 is not valid UTF-8 (expected: UTF-8 text)");

    // The long text is 60 tokens with [CLS] and [SEP] (golden case "longest padding": untruncated).
    JsonNode untruncated = GOLDEN.path("cases").get(1);
    String longText = untruncated.path("texts").get(8).textValue();
    assertThat(untruncated.path("attention_mask").get(8).size()).isEqualTo(60);
    assertThat(invalidInput(pipeline, OperatorHarness.bytes("text", hello, hello,
        longText.getBytes(StandardCharsets.UTF_8))))
        .isEqualTo("pipeline 'p': node 'n': input 'text': row 2 is 60 tokens long (expected: at most max_length, 16,"
            + " or truncation: true)");

    Pipeline strict = compile(tokenize("{tokenizer: tokenizer.json, max_bytes: 8, allow_empty: false}", "[-1]"),
        FOLDER);
    assertThat(invalidInput(strict, OperatorHarness.bytes("text", hello, "123456789".getBytes(StandardCharsets.UTF_8))))
        .isEqualTo("pipeline 'p': node 'n': input 'text': element 1 is 9 bytes long (expected: at most 8, max_bytes)");
    assertThat(invalidInput(strict, OperatorHarness.bytes("text", hello, " \t".getBytes(StandardCharsets.UTF_8))))
        .isEqualTo("pipeline 'p': node 'n': input 'text': element 1 is only white space (expected: some text;"
            + " allow_empty is false)");
    assertThat(invalidInput(strict, OperatorHarness.bytes("text", new byte[0])))
        .isEqualTo("pipeline 'p': node 'n': input 'text': element 0 is empty (expected: some text; allow_empty is"
            + " false)");

    Pipeline open = compile(tokenize("{tokenizer: tokenizer.json}", "[-1, -1]"), FOLDER);
    assertThat(invalidInput(open, Tensor.ofBytes("text", new long[] {1, 2}, List.of(hello, hello))))
        .isEqualTo("pipeline 'p': node 'n': input 'text': BYTES[1,2] (expected: BYTES [N] or [N, 1], one UTF-8 text"
            + " per row)");
  }
}
