package io.serval.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Samples from files: a file for a single BYTES element (an image for a pipeline) is that element. */
class SamplesTest {
  @Test
  void aFileForOneBytesElementIsSentAsThatElement(@TempDir Path dir) throws Exception {
    Path image = Files.write(dir.resolve("cat.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 1, 2});
    LoadOptions options = LoadOptions.parse("--url", "http://localhost:1", "--model", "classify", "--input",
        "image=" + image);

    List<List<InputTensor>> samples = Samples.of(options, List.of(new Samples.InputSpec("image", "BYTES",
        new long[] {1})));

    InputTensor tensor = samples.get(0).get(0);
    assertThat(tensor.shape()).containsExactly(1);
    ByteBuffer data = ByteBuffer.wrap(tensor.data()).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(data.getInt()).isEqualTo(5);
    byte[] element = new byte[data.remaining()];
    data.get(element);
    assertThat(element).isEqualTo(Files.readAllBytes(image));
  }
}
