package io.serval.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.serval.client.services.BuiltInServices;
import io.serval.client.services.Classification;
import io.serval.client.services.OcrResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The built-in services' helpers on the real built-in models of {@code models/}, over HTTP and gRPC. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BuiltInServicesTest {
  private static final Path MODELS = Path.of("..", "models").toAbsolutePath().normalize();

  private RealServer server;
  private final Map<Transport, ServalClient> clients = new EnumMap<>(Transport.class);

  @BeforeAll
  void start() throws Exception {
    server = RealServer.start(MODELS.toString(), "--model_control_mode=none");
    for (Transport transport : Transport.values()) {
      clients.put(transport, ServalClient.builder().transport(transport).endpoint(server.endpoint(transport))
          .build());
    }
  }

  @AfterAll
  void stop() {
    clients.values().forEach(ServalClient::close);
    server.close();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void classifiesDigitImages(Transport transport) throws Exception {
    BuiltInServices services = BuiltInServices.of(clients.get(transport));
    Classification seven = services.classifyImage(Files.readAllBytes(MODELS.resolve("digits/golden/seven.png")));
    assertThat(seven.label()).isEqualTo("7");
    assertThat(seven.score()).isGreaterThan(0.9f);
    Classification three = services.classifyImage(
        Files.readAllBytes(MODELS.resolve("digits/golden/three_112_rgb.jpg")));
    assertThat(three.label()).isEqualTo("3");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void classifiesSpamAndHam(Transport transport) {
    BuiltInServices services = BuiltInServices.of(clients.get(transport));
    assertThat(services.classifyText("WIN a FREE cruise! Reply now to claim your prize").label()).isEqualTo("spam");
    Classification ham = services.classifyText(
        "Hi Tom, the meeting has moved to Thursday at 3pm. Can you bring the slides from last week?");
    assertThat(ham.label()).isEqualTo("ham");
    assertThat(ham.score()).isGreaterThan(0.9f);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void readsEveryLineOfTheGoldenPage(Transport transport) throws Exception {
    BuiltInServices services = BuiltInServices.of(clients.get(transport));
    OcrResult page = services.ocr(Files.readAllBytes(MODELS.resolve("ocr/golden/page.png")));
    JsonNode golden = new ObjectMapper().readTree(MODELS.resolve("ocr/golden/page.json").toFile());
    List<String> expected = new ArrayList<>();
    golden.get("text").forEach(line -> expected.add(line.asText()));
    assertThat(page.lines()).extracting(OcrResult.Line::text).containsExactlyElementsOf(expected);
    OcrResult.Line first = page.lines().get(0);
    assertThat(first.corners()).hasSize(4);
    assertThat(first.corners().get(0).x()).isEqualTo(golden.get("boxes").get(0).get(0).get(0).floatValue());
    assertThat(first.rotated()).isFalse();
    assertThat(first.score()).isBetween(0f, 1f);
    assertThat(page.text()).startsWith(expected.get(0) + "\n");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void callsAnyLabelAndScorePipeline(Transport transport) throws Exception {
    BuiltInServices services = BuiltInServices.of(clients.get(transport));
    Classification rotated = services.classify("text-orientation", "image",
        Files.readAllBytes(MODELS.resolve("ocr_orientation/golden/rotated.png")));
    assertThat(rotated.label()).isEqualTo("180");
    assertThat(services.classifyAsync("text-orientation", "image",
        Files.readAllBytes(MODELS.resolve("ocr_orientation/golden/upright.png"))).get().label()).isEqualTo("0");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aFileThatIsNotAnImageIsAnInvalidRequestNamingTheNode(Transport transport) {
    BuiltInServices services = BuiltInServices.of(clients.get(transport));
    assertThatThrownBy(() -> services.classifyImage("not an image".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("not a JPEG or PNG image");
  }
}
