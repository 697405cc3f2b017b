package io.serval.client.examples;

import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferTensor;
import io.serval.client.ServalClient;
import io.serval.client.ServalClientException;
import io.serval.client.Transport;
import io.serval.client.services.BuiltInServices;
import io.serval.client.services.Classification;
import io.serval.client.services.OcrResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A runnable tour of the client against a Serval serving the built-in models ({@code bin/serval}):
 *
 * <pre>
 * mvn -B -q -pl client-sdk test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.serval.client.examples.ClientExample -Dexec.args="localhost:8001 grpc"
 * </pre>
 *
 * <p>Arguments: the endpoint ({@code localhost:8000} by default) and the transport ({@code http} or {@code grpc}).
 */
public final class ClientExample {
  private ClientExample() {}

  public static void main(String[] args) throws Exception {
    String endpoint = args.length > 0 ? args[0] : "localhost:8000";
    Transport transport = args.length > 1 ? Transport.valueOf(args[1].toUpperCase(java.util.Locale.ROOT))
        : Transport.HTTP;
    Path models = Path.of(args.length > 2 ? args[2] : "models");
    try (ServalClient client = ServalClient.builder()
        .transport(transport)
        .endpoint(endpoint)
        .timeout(Duration.ofSeconds(10))
        .build()) {
      System.out.println("ready: " + client.isReady() + ", server " + client.serverMetadata().getVersion());

      // A model called with tensors: the digits LeNet on its golden input.
      float[] pixels = new float[28 * 28];
      java.nio.ByteBuffer.wrap(Files.readAllBytes(models.resolve("digits/golden/input_x.bin")), 0, pixels.length * 4)
          .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(pixels);
      InferResult result = client.infer(InferRequest.builder("digits")
          .input(InferTensor.ofFloats("x", new long[] {1, 1, 28, 28}, pixels))
          .classification("probabilities", 3)
          .build());
      System.out.println("digits, top 3: " + result.output("probabilities").toStrings());

      // The built-in services, with typed answers.
      BuiltInServices services = BuiltInServices.of(client);
      Classification digit = services.classifyImage(Files.readAllBytes(models.resolve("digits/golden/seven.png")));
      System.out.println("seven.png: " + digit.label() + " (" + digit.score() + ")");
      System.out.println("spam? " + services.classifyText("WIN a FREE cruise! Reply now to claim your prize"));
      OcrResult page = services.ocr(Files.readAllBytes(models.resolve("ocr/golden/page.png")));
      System.out.println("page.png:\n" + page.text());

      // Errors are typed, with the server's message and request id.
      try {
        client.infer(InferRequest.builder("digits")
            .input(InferTensor.ofFloats("x", new long[] {1, 3}, 1, 2, 3))
            .build());
      } catch (ServalClientException e) {
        System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    }
  }
}
