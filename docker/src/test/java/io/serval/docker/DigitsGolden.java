package io.serval.docker;

import io.serval.client.InferRequest;
import io.serval.client.InferTensor;
import io.serval.core.DataType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code digits} model's golden tensors ({@code models/digits/golden}): three 28x28 digits in, the ten class
 * probabilities of each out, as recorded by the model's recipe.
 */
final class DigitsGolden {
  /** Largest difference allowed from the recorded probabilities (ONNX Runtime on another CPU may round apart). */
  static final float TOLERANCE = 1e-5f;

  private static final Path GOLDEN = ServalImage.MODELS.resolve("digits/golden");
  private static final long[] INPUT_SHAPE = {3, 1, 28, 28};

  private DigitsGolden() {}

  /** The golden input, for {@code model} (the digits model under any name). */
  static InferRequest request(String model) throws IOException {
    ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(GOLDEN.resolve("input_x.bin")))
        .order(ByteOrder.LITTLE_ENDIAN);
    return InferRequest.builder(model).input(InferTensor.of("x", DataType.FP32, INPUT_SHAPE, data)).build();
  }

  /** The golden output, 3 x 10 probabilities. */
  static float[] probabilities() throws IOException {
    ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(GOLDEN.resolve("output_probabilities.bin")))
        .order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[data.remaining() / Float.BYTES];
    data.asFloatBuffer().get(values);
    return values;
  }
}
