package io.serval.engine.openvino;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.serval.core.DataType;
import io.serval.core.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** The built-in models under {@code ../models}, each with realistic inputs: its golden ones where it has them. */
enum BuiltInModels {
  DIGITS("digits", "probabilities"),
  SPAM("spam", "probabilities"),
  OCR_DET("ocr_det", "sigmoid_0.tmp_0"),
  OCR_ORIENTATION("ocr_orientation", "softmax_0.tmp_0"),
  OCR_REC("ocr_rec", "softmax_11.tmp_0");

  static final Path ROOT = Path.of("..", "models");

  final String name;
  final String output;

  BuiltInModels(String name, String output) {
    this.name = name;
    this.output = output;
  }

  Path onnx() {
    return ROOT.resolve(name).resolve("1").resolve("model.onnx");
  }

  /** The inputs, in the model's order. */
  List<Tensor> inputs() throws IOException {
    switch (this) {
      case DIGITS:
        return List.of(golden("digits", "x", new long[] {3, 1, 28, 28}));
      case SPAM:
        return spamInputs();
      case OCR_DET:
        return List.of(page());
      case OCR_ORIENTATION:
        return List.of(golden("ocr_orientation", "x", new long[] {2, 3, 48, 192}));
      case OCR_REC:
        // The orientation classifier's golden text lines: height 48, normalised to [-1, 1] as the recogniser wants.
        return List.of(golden("ocr_orientation", "x", new long[] {2, 3, 48, 192}));
      default:
        throw new IllegalStateException(name());
    }
  }

  private static Tensor golden(String model, String input, long[] shape) throws IOException {
    byte[] bytes = Files.readAllBytes(ROOT.resolve(model).resolve("golden").resolve("input_x.bin"));
    return Tensor.copyOf(input, DataType.FP32, shape, bytes, 0, bytes.length);
  }

  /** The first two golden messages' token ids, padded to the longer one as a batch is. */
  private static List<Tensor> spamInputs() throws IOException {
    JsonNode examples = new ObjectMapper().readTree(ROOT.resolve("spam/golden/golden.json").toFile()).get("examples");
    List<long[]> ids = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      JsonNode tokens = examples.get(i).get("input_ids");
      long[] row = new long[tokens.size()];
      for (int j = 0; j < row.length; j++) {
        row[j] = tokens.get(j).asLong();
      }
      ids.add(row);
    }
    int length = Math.max(ids.get(0).length, ids.get(1).length);
    ByteBuffer inputIds = Tensor.allocate(2L * length * Long.BYTES);
    ByteBuffer mask = Tensor.allocate(2L * length * Long.BYTES);
    for (long[] row : ids) {
      for (int j = 0; j < length; j++) {
        inputIds.putLong(j < row.length ? row[j] : 0);
        mask.putLong(j < row.length ? 1 : 0);
      }
    }
    long[] shape = {2, length};
    return List.of(
        Tensor.of("input_ids", DataType.INT64, shape, inputIds.flip()),
        Tensor.of("attention_mask", DataType.INT64, shape, mask.flip()),
        Tensor.of("token_type_ids", DataType.INT64, shape, Tensor.allocate(2L * length * Long.BYTES)));
  }

  /** The OCR golden page, resized to 320 x 256 and normalised with ImageNet's mean and deviation. */
  private static Tensor page() throws IOException {
    BufferedImage image = ImageIO.read(ROOT.resolve("ocr/golden/page.png").toFile());
    int width = 320;
    int height = 256;
    float[] mean = {0.485f, 0.456f, 0.406f};
    float[] std = {0.229f, 0.224f, 0.225f};
    ByteBuffer data = Tensor.allocate(3L * height * width * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          int rgb = image.getRGB(x * image.getWidth() / width, y * image.getHeight() / height);
          float value = ((rgb >> (16 - 8 * c)) & 0xFF) / 255f;
          data.putFloat((value - mean[c]) / std[c]);
        }
      }
    }
    return Tensor.of("x", DataType.FP32, new long[] {1, 3, height, width}, data.flip());
  }
}
