package io.serval.client.services;

import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferTensor;
import io.serval.client.ServalClient;
import io.serval.client.ServalClientException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Serval only: the built-in services of its {@code models/} folder, called as the v2 models they are (so over
 * HTTP or gRPC alike) and answered as typed results.
 *
 * <pre>{@code
 * BuiltInServices services = BuiltInServices.of(client);
 * Classification digit = services.classifyImage(Files.readAllBytes(Path.of("seven.png")));   // 7, 0.99
 * Classification spam = services.classifyText("WIN a FREE cruise! Reply now");                // spam, 0.99
 * OcrResult page = services.ocr(Files.readAllBytes(Path.of("page.png")));
 * }</pre>
 */
public final class BuiltInServices {
  /** The digit classifier's pipeline: a JPEG or PNG file in, a digit out. */
  public static final String IMAGE_CLASSIFICATION = "image-classification";
  /** The spam classifier's pipeline: a message in, {@code spam} or {@code ham} out. */
  public static final String TEXT_CLASSIFICATION = "text-classification";
  /** The OCR pipeline: a page in, its text lines out. */
  public static final String OCR = "ocr";

  private final ServalClient client;

  private BuiltInServices(ServalClient client) {
    this.client = client;
  }

  /** The services, called through {@code client}. */
  public static BuiltInServices of(ServalClient client) {
    return new BuiltInServices(client);
  }

  /** The handwritten digit in a JPEG or PNG file of any size and colour. */
  public Classification classifyImage(byte[] imageFile) {
    return classify(IMAGE_CLASSIFICATION, "image", imageFile);
  }

  /** Whether a message (subject and body) is {@code spam} or {@code ham}. */
  public Classification classifyText(String text) {
    return classify(TEXT_CLASSIFICATION, "text", text.getBytes(StandardCharsets.UTF_8));
  }

  /** Every text line of a JPEG or PNG page, with its position, in reading order. */
  public OcrResult ocr(byte[] imageFile) {
    return ocr(client.infer(request(OCR, "image", imageFile)));
  }

  /** {@link #ocr} without waiting. */
  public CompletableFuture<OcrResult> ocrAsync(byte[] imageFile) {
    return client.inferAsync(request(OCR, "image", imageFile)).thenApply(BuiltInServices::ocr);
  }

  /**
   * Any pipeline that takes one BYTES element and answers a {@code label} and a {@code score}, as {@code
   * image-classification}, {@code text-classification} and {@code text-orientation} do.
   */
  public Classification classify(String pipeline, String input, byte[] value) {
    return classification(client.infer(request(pipeline, input, value)));
  }

  /** {@link #classify} without waiting. */
  public CompletableFuture<Classification> classifyAsync(String pipeline, String input, byte[] value) {
    return client.inferAsync(request(pipeline, input, value)).thenApply(BuiltInServices::classification);
  }

  private static InferRequest request(String pipeline, String input, byte[] value) {
    return InferRequest.builder(pipeline)
        .input(InferTensor.ofBytes(input, new long[] {1}, List.of(value)))
        .build();
  }

  private static Classification classification(InferResult result) {
    try {
      return new Classification(result.output("label").toStrings().get(0), result.output("score").toFloatArray()[0]);
    } catch (RuntimeException e) {
      throw ServalClientException.unexpected("'" + result.modelName() + "' did not answer a label and a score: "
          + e.getMessage(), e);
    }
  }

  private static OcrResult ocr(InferResult result) {
    List<String> text;
    float[] boxes;
    float[] scores;
    boolean[] rotated;
    try {
      text = result.output("text").toStrings();
      boxes = result.output("boxes").toFloatArray();
      scores = result.output("scores").toFloatArray();
      rotated = result.output("rotated").toBooleanArray();
    } catch (RuntimeException e) {
      throw ServalClientException.unexpected("'" + result.modelName() + "' did not answer OCR outputs: "
          + e.getMessage(), e);
    }
    if (boxes.length != text.size() * 8 || scores.length != text.size() || rotated.length != text.size()) {
      throw ServalClientException.unexpected("'" + result.modelName() + "' answered " + text.size() + " lines but "
          + boxes.length / 8 + " boxes, " + scores.length + " scores and " + rotated.length + " rotations",
          new IllegalStateException("OCR outputs of different lengths"));
    }
    List<OcrResult.Line> lines = new ArrayList<>(text.size());
    for (int i = 0; i < text.size(); i++) {
      List<OcrResult.Point> corners = new ArrayList<>(4);
      for (int corner = 0; corner < 4; corner++) {
        corners.add(new OcrResult.Point(boxes[i * 8 + corner * 2], boxes[i * 8 + corner * 2 + 1]));
      }
      lines.add(new OcrResult.Line(text.get(i), List.copyOf(corners), scores[i], rotated[i]));
    }
    return new OcrResult(List.copyOf(lines));
  }
}
