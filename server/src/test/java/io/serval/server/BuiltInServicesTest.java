package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ContentDisposition;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.multipart.BodyPart;
import com.linecorp.armeria.common.multipart.Multipart;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The built-in image and text classification services, as a user meets them: the server on the project's
 * {@code models/}, called at {@code POST /v1/pipelines/{name}} with image files and texts. Accuracy on each model's
 * held-out set (never seen in training), the golden examples, and every bad input refused by name.
 */
class BuiltInServicesTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Path DIGITS = TestRepositories.MODELS.resolve("digits").resolve("golden");
  private static final Path SPAM = TestRepositories.MODELS.resolve("spam").resolve("golden");

  private static RunningServer server;
  private static BlockingWebClient http;

  @BeforeAll
  static void start() throws Exception {
    server = RunningServer.start(TestRepositories.MODELS);
    http = WebClient.builder(server.httpUri()).build().blocking();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static AggregatedHttpResponse upload(String pipeline, String file, byte[] content) {
    Multipart form = Multipart.of(BodyPart.of(ContentDisposition.builder("form-data").name("image").filename(file)
        .build(), HttpData.wrap(content)));
    return http.execute(form.toHttpRequest("/v1/pipelines/" + pipeline));
  }

  private static AggregatedHttpResponse classifyText(String text) {
    String body = JsonNodeFactory.instance.objectNode().put("text", text).toString();
    return http.prepare().post("/v1/pipelines/text-classification").content(MediaType.JSON, body).execute();
  }

  private static JsonNode answer(AggregatedHttpResponse response) throws Exception {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
    return MAPPER.readTree(response.contentUtf8());
  }

  private static byte[] png(BufferedImage image) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  @Test
  void readsTheHeldOutDigitsSentAsPngFiles() throws Exception {
    byte[] pixels = Files.readAllBytes(DIGITS.resolve("heldout.bin"));
    List<String> labels = Files.readAllLines(DIGITS.resolve("heldout_labels.txt"));
    int count = labels.size();
    assertThat(pixels).hasSize(count * 28 * 28);
    int right = 0;
    for (int i = 0; i < count; i++) {
      BufferedImage digit = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
      digit.getRaster().setDataElements(0, 0, 28, 28, Arrays.copyOfRange(pixels, i * 784, (i + 1) * 784));
      JsonNode answer = answer(upload("image-classification", "digit.png", png(digit)));
      right += answer.get("label").asText().equals(labels.get(i)) ? 1 : 0;
    }
    double accuracy = (double) right / count;
    System.out.printf("image-classification: %d of %d held-out digits right (%.2f%%)%n", right, count,
        100 * accuracy);
    assertThat(accuracy).isGreaterThanOrEqualTo(0.98);
  }

  @Test
  void answersTheGoldenDigitsAsStored() throws Exception {
    JsonNode golden = MAPPER.readTree(DIGITS.resolve("golden.json").toFile());
    for (JsonNode example : golden.get("examples")) {
      String file = example.get("file").asText();
      JsonNode answer = answer(upload("image-classification", file, Files.readAllBytes(DIGITS.resolve(file))));
      assertThat(answer.get("label").asText()).as(file).isEqualTo(example.get("expected_label").asText());
      if (example.get("width").asInt() == 28 && example.get("height").asInt() == 28) {
        // At 28 x 28 nothing is resized: the model's own probability, as onnxruntime gave it.
        double expected = example.get("probabilities").get(example.get("expected_label").asInt()).asDouble();
        assertThat(answer.get("score").asDouble()).as(file).isCloseTo(expected, within(1e-5));
      }
    }
  }

  @Test
  void classifiesTheHeldOutMessagesAsSpamOrHam() throws Exception {
    List<String> lines = Files.readAllLines(SPAM.resolve("heldout.jsonl"));
    int right = 0;
    for (String line : lines) {
      JsonNode message = MAPPER.readTree(line);
      JsonNode answer = answer(classifyText(message.get("text").asText()));
      right += answer.get("label").asText().equals(message.get("label").asText()) ? 1 : 0;
    }
    double accuracy = (double) right / lines.size();
    System.out.printf("text-classification: %d of %d held-out messages right (%.2f%%)%n", right, lines.size(),
        100 * accuracy);
    assertThat(accuracy).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void answersTheGoldenMessagesAsStored() throws Exception {
    JsonNode golden = MAPPER.readTree(SPAM.resolve("golden.json").toFile());
    List<String> labels = Files.readAllLines(TestRepositories.MODELS.resolve("spam").resolve("labels.txt"));
    for (JsonNode example : golden.get("examples")) {
      JsonNode answer = answer(classifyText(example.get("text").asText()));
      JsonNode probabilities = example.get("probabilities");
      int best = probabilities.get(1).asDouble() > probabilities.get(0).asDouble() ? 1 : 0;
      assertThat(answer.get("label").asText()).isEqualTo(labels.get(best));
      assertThat(answer.get("score").asDouble()).isCloseTo(probabilities.get(best).asDouble(), within(1e-4));
    }
  }

  @Test
  void badInputsAreRefusedNamingTheProblem() throws Exception {
    assertError(upload("image-classification", "empty.png", new byte[0]),
        "pipeline 'image-classification': node 'decode': input 'image': empty (expected: a JPEG or PNG image)");
    assertError(upload("image-classification", "tiny.png", png(new BufferedImage(1, 1,
        BufferedImage.TYPE_BYTE_GRAY))), "pipeline 'image-classification': node 'decode': input 'image': a PNG image"
            + " of 1 x 1 pixels (expected: at least 8 x 8, min_side)");
    assertError(classifyText(""), "pipeline 'text-classification': node 'tokenize': input 'text': element 0 is"
        + " empty (expected: some text; allow_empty is false)");
    assertError(classifyText("spam ".repeat(200_000)), "pipeline 'text-classification': node 'tokenize': input"
        + " 'text': element 0 is 1000000 bytes long (expected: at most 65536, max_bytes)");
  }

  private static void assertError(AggregatedHttpResponse response, String message) throws Exception {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(MAPPER.readTree(response.contentUtf8()).get("error").asText()).isEqualTo(message);
  }
}
