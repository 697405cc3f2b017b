package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ContentDisposition;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.multipart.BodyPart;
import com.linecorp.armeria.common.multipart.Multipart;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ImageNet preset ({@code examples/imagenet-classification}) as its README says to use it: the pipeline folder
 * copied into a repository beside a model folder holding nothing but {@code imagenet/1/model.onnx}, here a small
 * randomly initialised model of the same input and output as torchvision's exports. Its top 5 for the golden
 * image are those of the same steps in Python (Pillow, NumPy, onnxruntime; {@code make_test_model.py}).
 */
class ImageNetPresetTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Path PRESET = TestRepositories.MODELS.resolveSibling("examples").resolve("imagenet-classification");

  @Test
  void aDroppedInModelServesTheTopFiveWithTheirLabels(@TempDir Path repository) throws Exception {
    TestRepositories.copyTree(PRESET.resolve("imagenet_classification"), repository.resolve("imagenet_classification"));
    Files.createDirectories(repository.resolve("imagenet").resolve("1"));
    Files.copy(PRESET.resolve("test-model").resolve("model.onnx"),
        repository.resolve("imagenet").resolve("1").resolve("model.onnx"));
    JsonNode golden = MAPPER.readTree(PRESET.resolve("test-model").resolve("golden.json").toFile());

    try (RunningServer server = RunningServer.start(repository)) {
      Multipart form = Multipart.of(BodyPart.of(ContentDisposition.builder("form-data").name("image")
          .filename("golden.jpg").build(), HttpData.wrap(Files.readAllBytes(PRESET.resolve("test-model")
          .resolve("golden.jpg")))));
      AggregatedHttpResponse response = WebClient.of(server.httpUri()).blocking()
          .execute(form.toHttpRequest("/v1/pipelines/imagenet_classification"));

      assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
      JsonNode body = MAPPER.readTree(response.contentUtf8());
      assertThat(body.get("labels").get(0)).isEqualTo(golden.get("labels"));
      for (int i = 0; i < 5; i++) {
        // The JDK's JPEG decoder and libjpeg may differ by one in a few pixels.
        assertThat(body.get("scores").get(0).get(i).doubleValue())
            .isCloseTo(golden.get("scores").get(i).doubleValue(), within(2e-3));
      }
    }
  }
}
