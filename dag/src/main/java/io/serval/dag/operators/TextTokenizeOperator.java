package io.serval.dag.operators;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.LibUtils;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.LongBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: text.tokenize}, {@code params: {tokenizer, max_length, padding, truncation, add_special_tokens,
 * pad_token, max_bytes, allow_empty}}: input {@code text} (BYTES [N] or [N, 1]: N texts in UTF-8), outputs
 * {@code input_ids}, {@code attention_mask} and {@code token_type_ids} (INT64 [N, L], what BERT-style ONNX models
 * take), one row per text.
 *
 * <p>{@code tokenizer} names a Hugging Face {@code tokenizer.json} (relative to the pipeline's folder, or
 * absolute), run by the Rust {@code tokenizers} library through DJL ({@code ai.djl.huggingface:tokenizers}), so a
 * row is what the Python {@code tokenizers} package makes of the same text with the same file and settings. Its
 * normalizer, pre-tokenizer, model and post-processor apply as the file says; its padding and truncation do not:
 * these params alone decide them.
 *
 * <ul>
 *   <li>{@code max_length} (1 to 8192, default 512): the most tokens in a row, special tokens included.
 *   <li>{@code truncation} (default true): a longer text keeps its first tokens; with false it is refused.
 *   <li>{@code add_special_tokens} (default true): what the tokenizer's post-processor adds, e.g. [CLS] and [SEP].
 *   <li>{@code max_bytes} (default 1 MiB): the longest text taken, in UTF-8 bytes, refused past it before any
 *       tokenising; {@code allow_empty} (default true): with false, an empty or white-space-only text is refused.
 *   <li>{@code padding}: {@code longest} (the default) pads the rows of a request to its longest row, so L is known
 *       per request only; {@code max_length} pads every row to max_length, for models of a fixed sequence length.
 *       Padding is on the right: the id of {@code pad_token} (default [PAD], one of the file's added tokens or of
 *       its model's vocabulary) in input_ids, and 0 in attention_mask and token_type_ids.
 * </ul>
 *
 * <p>Refused at load: a missing or unreadable file, a file that is not a tokenizer.json (with the JSON parser's or
 * the library's reason), a pad_token the file does not have, and a max_length below the number of special tokens
 * the tokenizer adds to every text. Refused per request, as invalid input naming {@code text}: another datatype or
 * shape, an element that is not UTF-8, and without truncation a text longer than max_length (its row and length
 * named).
 *
 * <p>Each node loads its tokenizer once, when its pipeline loads, and keeps it (in native memory, a few MB for a
 * BERT vocabulary) as long as the pipeline lives; requests share it, as the library's tokenizer is safe to use from
 * several threads and nothing changes it after load. Pipelines are not closed, so DJL's finalizer frees it once an
 * unloaded pipeline is collected. Texts are encoded one at a time on the pipeline's thread: the library's batch
 * encoding would run them on a Rayon pool of its own, beside the pipeline threads.
 *
 * <p>The library's native code comes inside the DJL jar (Linux x86-64 and aarch64, macOS arm64, Windows x86-64).
 * DJL copies it at the first load to {@code ~/.djl.ai/tokenizers/<version>-cpu-<platform>/} (elsewhere with {@code
 * DJL_CACHE_DIR} or {@code ENGINE_CACHE_DIR}, as an environment variable or a system property; in the temp folder
 * when the home folder is not writable), once per version, and loads it from there. Nothing is downloaded: unless
 * {@code DJL_OFFLINE} or {@code -Dai.djl.offline} is set, the first load sets the system property {@code
 * ai.djl.offline=true}, which keeps DJL from looking for natives online and from its usage report (a request to the
 * EC2 metadata address, 169.254.169.254, at the first load of each day).
 */
public final class TextTokenizeOperator implements Operator {
  /** The most {@code max_length} allows. */
  static final int MAX_LENGTH_LIMIT = 8192;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String OFFLINE = "ai.djl.offline";

  private final HuggingFaceTokenizer tokenizer;
  private final int maxLength;
  private final boolean padToMaxLength;
  private final boolean addSpecialTokens;
  private final long padId;
  private final int maxBytes;
  private final boolean allowEmpty;

  private TextTokenizeOperator(HuggingFaceTokenizer tokenizer, int maxLength, boolean padToMaxLength,
      boolean addSpecialTokens, long padId, int maxBytes, boolean allowEmpty) {
    this.maxBytes = maxBytes;
    this.allowEmpty = allowEmpty;
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
    this.padToMaxLength = padToMaxLength;
    this.addSpecialTokens = addSpecialTokens;
    this.padId = padId;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "text.tokenize";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("tokenizer", "max_length", "padding", "truncation", "add_special_tokens",
          "pad_token", "max_bytes", "allow_empty"));
      int maxBytes = parameters.integer("max_bytes", 1 << 20, 1, Integer.MAX_VALUE);
      boolean allowEmpty = parameters.bool("allow_empty", true);
      Path file = parameters.file("tokenizer");
      int maxLength = parameters.integer("max_length", 512, 1, MAX_LENGTH_LIMIT);
      String padding = parameters.choice("padding", "longest", List.of("longest", "max_length"));
      boolean truncation = parameters.bool("truncation", true);
      boolean addSpecialTokens = parameters.bool("add_special_tokens", true);
      String padToken = parameters.optionalString("pad_token");
      padToken = padToken == null ? "[PAD]" : padToken;

      String name = parameters.string("tokenizer");
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw notATokenizer(name, "not readable (" + e + ")");
      }
      ObjectNode json = parse(bytes, name);
      HuggingFaceTokenizer tokenizer = load(bytes, name, maxLength, truncation);
      if (json.hasNonNull("padding") || json.hasNonNull("truncation")) {
        // Loaded again without them, so that the params alone decide (the library would keep the file's
        // truncation direction). The first load checked the file as it is, for messages that point into it.
        tokenizer.close();
        json.putNull("padding");
        json.putNull("truncation");
        tokenizer = load(json.toString().getBytes(StandardCharsets.UTF_8), name, maxLength, truncation);
      }
      try {
        long padId = tokenId(json, padToken);
        if (padId < 0) {
          throw new IllegalArgumentException("params.pad_token: '" + padToken + "' is not a token of '" + name
              + "' (expected: one of its added tokens or of its model's vocabulary, e.g. [PAD] or <pad>)");
        }
        int special = tokenizer.encode("", addSpecialTokens, false).getIds().length;
        if (maxLength < special) {
          throw new IllegalArgumentException("params.max_length: is " + maxLength + " (expected: at least "
              + special + ", the special tokens '" + name + "' adds to every text)");
        }
        return new TextTokenizeOperator(tokenizer, maxLength, padding.equals("max_length"), addSpecialTokens,
            padId, maxBytes, allowEmpty);
      } catch (IllegalArgumentException e) {
        tokenizer.close();
        throw e;
      }
    }

    private static ObjectNode parse(byte[] bytes, String name) {
      JsonNode json;
      try {
        json = JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
      } catch (JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        throw notATokenizer(name, "not JSON (" + e.getOriginalMessage()
            + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()) + ")");
      }
      if (!(json instanceof ObjectNode)) {
        throw notATokenizer(name, "not a JSON object");
      }
      return (ObjectNode) json;
    }

    /** The id of {@code token} among the file's added tokens or in its model's vocabulary; -1 if neither. */
    private static long tokenId(ObjectNode json, String token) {
      for (JsonNode added : json.path("added_tokens")) {
        if (token.equals(added.path("content").textValue()) && added.path("id").isIntegralNumber()) {
          return added.path("id").longValue();
        }
      }
      JsonNode id = json.path("model").path("vocab").path(token);
      return id.isIntegralNumber() ? id.longValue() : -1;
    }

    private static HuggingFaceTokenizer load(byte[] json, String name, int maxLength, boolean truncation) {
      if (System.getenv("DJL_OFFLINE") == null && System.getProperty(OFFLINE) == null) {
        System.setProperty(OFFLINE, "true");
      }
      // The native library loads once per JVM; that it does not load here is no fault of the file.
      LibUtils.checkStatus();
      String length = Integer.toString(maxLength);
      Map<String, String> options = Map.of("truncation", truncation ? "longest_first" : "do_not_truncate",
          "padding", "do_not_pad", "maxLength", length, "modelMaxLength", length, "stride", "0",
          "padToMultipleOf", "0");
      try {
        return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
      } catch (IOException | RuntimeException e) {
        throw notATokenizer(name, "not a tokenizer the tokenizers library loads (" + e.getMessage() + ")");
      }
    }

    private static IllegalArgumentException notATokenizer(String name, String reason) {
      return new IllegalArgumentException("params.tokenizer: '" + name + "' is " + reason
          + " (expected: a Hugging Face tokenizer.json)");
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("text");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec text = inputs.get("text");
    long[] shape = text.shape();
    if (!texts(text.dataType(), shape)) {
      throw new IllegalArgumentException("inputs.text: " + text.dataType().wireName() + Shapes.format(shape)
          + " (expected: BYTES [N] or [N, 1], one UTF-8 text per row)");
    }
    long length = padToMaxLength ? maxLength : Shapes.DYNAMIC;
    return List.of(TensorSpec.of("input_ids", DataType.INT64, shape[0], length),
        TensorSpec.of("attention_mask", DataType.INT64, shape[0], length),
        TensorSpec.of("token_type_ids", DataType.INT64, shape[0], length));
  }

  /** Whether a tensor of {@code type} and {@code shape} (-1 for a dimension not known yet) holds rows of text. */
  private static boolean texts(DataType type, long[] shape) {
    return type == DataType.BYTES
        && (shape.length == 1 || (shape.length == 2 && (shape[1] == 1 || shape[1] == Shapes.DYNAMIC)));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor text = inputs.get("text");
    long[] shape = text.shape();
    if (!texts(text.dataType(), shape) || (shape.length == 2 && shape[1] != 1)) {
      throw new InvalidInputException("input 'text': " + text.dataType().wireName() + Shapes.format(shape)
          + " (expected: BYTES [N] or [N, 1], one UTF-8 text per row)");
    }
    List<byte[]> elements = text.bytesElements();
    int rows = elements.size();
    Encoding[] encodings = new Encoding[rows];
    CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();
    int length = padToMaxLength ? maxLength : 0;
    for (int row = 0; row < rows; row++) {
      int size = elements.get(row).length;
      if (size > maxBytes) {
        throw new InvalidInputException("input 'text': element " + row + " is " + size + " bytes long (expected: at"
            + " most " + maxBytes + ", max_bytes)");
      }
      CharBuffer chars;
      try {
        chars = utf8.decode(ByteBuffer.wrap(elements.get(row)));
      } catch (CharacterCodingException e) {
        throw new InvalidInputException("input 'text': element " + row + " is not valid UTF-8 (expected: UTF-8"
            + " text)");
      }
      String value = chars.toString();
      if (!allowEmpty && value.isBlank()) {
        throw new InvalidInputException("input 'text': element " + row + " is " + (value.isEmpty() ? "empty"
            : "only white space") + " (expected: some text; allow_empty is false)");
      }
      encodings[row] = tokenizer.encode(value, addSpecialTokens, false);
      int tokens = encodings[row].getIds().length;
      if (tokens > maxLength) {
        throw new InvalidInputException("input 'text': row " + row + " is " + tokens + " tokens long (expected: at"
            + " most max_length, " + maxLength + ", or truncation: true)");
      }
      length = Math.max(length, tokens);
    }
    long[] outShape = {rows, length};
    long bytes = (long) rows * length * Long.BYTES;
    ByteBuffer ids = context.memory().allocate(bytes);
    ByteBuffer mask = context.memory().allocate(bytes);
    ByteBuffer types = context.memory().allocate(bytes);
    LongBuffer idRows = ids.asLongBuffer();
    LongBuffer maskRows = mask.asLongBuffer();
    LongBuffer typeRows = types.asLongBuffer();
    for (int row = 0; row < rows; row++) {
      Encoding encoding = encodings[row];
      long[] rowIds = encoding.getIds();
      int at = row * length;
      idRows.put(at, rowIds);
      maskRows.put(at, encoding.getAttentionMask());
      typeRows.put(at, encoding.getTypeIds());
      // Buffers start zeroed: a padded position's mask and type id are 0 already.
      for (int i = rowIds.length; i < length; i++) {
        idRows.put(at + i, padId);
      }
    }
    return CompletableFuture.completedFuture(List.of(Tensor.of("input_ids", DataType.INT64, outShape, ids),
        Tensor.of("attention_mask", DataType.INT64, outShape, mask),
        Tensor.of("token_type_ids", DataType.INT64, outShape, types)));
  }
}
