package io.serval.dag.operators;

import static io.serval.dag.operators.OperatorHarness.bytes;
import static io.serval.dag.operators.OperatorHarness.compile;
import static io.serval.dag.operators.OperatorHarness.invalidInput;
import static io.serval.dag.operators.OperatorHarness.problems;
import static io.serval.dag.operators.OperatorHarness.run;
import static io.serval.dag.operators.OperatorHarness.unsigned;
import static io.serval.dag.operators.OperatorHarness.yaml;
import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.Tensor;
import io.serval.dag.Pipeline;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** image.decode: PNG pixels exactly, every PNG kind to 3 channels, JPEG, and what it refuses before decoding. */
class ImageDecodeOperatorTest {
  private static Pipeline decode(String params) throws Exception {
    return compile(yaml("image.decode", params, "image", "BYTES", "[1]", "pixels"));
  }

  private static byte[] encode(BufferedImage image, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(image, format, out)).as("a " + format + " writer").isTrue();
    return out.toByteArray();
  }

  /** 4 x 2, RGB: the top row red, green, blue, white; the bottom row (1,2,3), (250,128,0), black, (10,20,30). */
  private static BufferedImage fourByTwo() {
    BufferedImage image = new BufferedImage(4, 2, BufferedImage.TYPE_INT_RGB);
    int[] rgb = {0xff0000, 0x00ff00, 0x0000ff, 0xffffff, 0x010203, 0xfa8000, 0x000000, 0x0a141e};
    for (int i = 0; i < rgb.length; i++) {
      image.setRGB(i % 4, i / 4, rgb[i]);
    }
    return image;
  }

  @Test
  void decodesAPngToHeightWidthChannelsInRgbOrBgr() throws Exception {
    byte[] png = encode(fourByTwo(), "png");
    Pipeline rgb = decode("{}");
    assertThat(rgb.signature().outputs().get(0).toString()).isEqualTo("pixels:UINT8[-1,-1,3]");

    Tensor pixels = run(rgb, bytes("image", png)).get(0);

    assertThat(pixels.shape()).containsExactly(2, 4, 3);
    assertThat(unsigned(pixels)).containsExactly(
        255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255,
        1, 2, 3, 250, 128, 0, 0, 0, 0, 10, 20, 30);
    assertThat(unsigned(run(decode("{color: BGR}"), bytes("image", png)).get(0))).containsExactly(
        0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255,
        3, 2, 1, 0, 128, 250, 0, 0, 0, 30, 20, 10);
  }

  @Test
  void grayPaletteSixteenBitAndAlphaImagesBecomeThreeChannels() throws Exception {
    Pipeline pipeline = decode("{}");
    // Gray values are repeated as they are: the JDK's own conversion would make 128 into 188 (a gamma).
    BufferedImage gray = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
    gray.getRaster().setPixels(0, 0, 3, 1, new int[] {0, 128, 255});
    assertThat(unsigned(run(pipeline, bytes("image", encode(gray, "png"))).get(0)))
        .containsExactly(0, 0, 0, 128, 128, 128, 255, 255, 255);

    // 16-bit samples keep their high byte: 0x8040 -> 0x80 = 128, 0xffff -> 255.
    BufferedImage deep = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    deep.getRaster().setPixels(0, 0, 2, 1, new int[] {0x8040, 0xffff});
    assertThat(unsigned(run(pipeline, bytes("image", encode(deep, "png"))).get(0)))
        .containsExactly(128, 128, 128, 255, 255, 255);

    // A palette of two entries: index 1 is (9, 99, 199).
    IndexColorModel palette = new IndexColorModel(1, 2, new byte[] {0, 9}, new byte[] {0, 99},
        new byte[] {0, (byte) 199});
    BufferedImage indexed = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_BINARY, palette);
    indexed.getRaster().setPixels(0, 0, 2, 1, new int[] {1, 0});
    assertThat(unsigned(run(pipeline, bytes("image", encode(indexed, "png"))).get(0)))
        .containsExactly(9, 99, 199, 0, 0, 0);

    // Alpha is dropped, not blended: a half-transparent (200, 100, 50) stays (200, 100, 50).
    BufferedImage alpha = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
    alpha.setRGB(0, 0, 0x80c86432);
    alpha.setRGB(1, 0, 0x00010203);
    assertThat(unsigned(run(pipeline, bytes("image", encode(alpha, "png"))).get(0)))
        .containsExactly(200, 100, 50, 1, 2, 3);
  }

  @Test
  void decodesAJpegWithinItsLoss() throws Exception {
    BufferedImage solid = new BufferedImage(16, 8, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 16; x++) {
        solid.setRGB(x, y, 0x336699);
      }
    }

    Tensor pixels = run(decode("{}"), bytes("image", encode(solid, "jpeg"))).get(0);

    assertThat(pixels.shape()).containsExactly(8, 16, 3);
    int[] values = unsigned(pixels);
    for (int i = 0; i < values.length; i += 3) {
      // JPEG is lossy: a flat color comes back within a few levels of (0x33, 0x66, 0x99) = (51, 102, 153).
      assertThat(values[i]).isBetween(48, 54);
      assertThat(values[i + 1]).isBetween(99, 105);
      assertThat(values[i + 2]).isBetween(150, 156);
    }
  }

  /** A PNG of only a signature, an IHDR (8-bit RGB) claiming {@code width x height}, and IEND: no pixels at all. */
  private static byte[] pngHeaderOnly(int width, int height) {
    ByteBuffer png = ByteBuffer.allocate(8 + 25 + 12);
    png.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
        .put((byte) 0).put((byte) 0).put((byte) 0).array());
    chunk(png, "IEND", new byte[0]);
    return png.array();
  }

  private static void chunk(ByteBuffer png, String type, byte[] data) {
    byte[] name = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(name);
    crc.update(data);
    png.putInt(data.length).put(name).put(data).putInt((int) crc.getValue());
  }

  @Test
  void refusesADecompressionBombFromItsHeaderBeforeDecoding() throws Exception {
    Pipeline pipeline = decode("{}");
    // The file has no image data: had it been decoded, it would have failed as corrupt instead.
    assertThat(invalidInput(pipeline, bytes("image", pngHeaderOnly(100_000, 100_000)))).isEqualTo("pipeline 'p':"
        + " node 'n': input 'image': a PNG image of 100000 x 100000 pixels, over max_pixels (40000000); refused"
        + " before decoding");

    // A real JPEG whose frame header (SOF0: FF C0, length, precision, height, width) is patched to 60000 x 50000.
    byte[] jpeg = encode(new BufferedImage(8, 8, BufferedImage.TYPE_3BYTE_BGR), "jpeg");
    int sof = 2;
    while (!((jpeg[sof] & 0xff) == 0xff && (jpeg[sof + 1] & 0xff) == 0xc0)) {
      sof++;
    }
    ByteBuffer.wrap(jpeg, sof + 5, 4).putShort((short) 50_000).putShort((short) 60_000);
    assertThat(invalidInput(pipeline, bytes("image", jpeg))).isEqualTo("pipeline 'p': node 'n': input 'image': a"
        + " JPEG image of 60000 x 50000 pixels, over max_pixels (40000000); refused before decoding");

    // The limit is a parameter: 4 x 2 = 8 pixels is over 7.
    assertThat(invalidInput(decode("{max_pixels: 7}"), bytes("image", encode(fourByTwo(), "png"))))
        .endsWith("input 'image': a PNG image of 4 x 2 pixels, over max_pixels (7); refused before decoding");
    assertThat(run(decode("{max_pixels: 8}"), bytes("image", encode(fourByTwo(), "png"))).get(0).shape())
        .containsExactly(2, 4, 3);

    // So is the least side, read from the header too: 4 x 2 has a side under 3.
    assertThat(invalidInput(decode("{min_side: 3}"), bytes("image", encode(fourByTwo(), "png"))))
        .endsWith("input 'image': a PNG image of 4 x 2 pixels (expected: at least 3 x 3, min_side)");
  }

  @Test
  void refusesEmptyForeignTruncatedAndCorruptImagesNamingTheInput() throws Exception {
    Pipeline pipeline = decode("{}");
    assertThat(invalidInput(pipeline, bytes("image", new byte[0])))
        .isEqualTo("pipeline 'p': node 'n': input 'image': empty (expected: a JPEG or PNG image)");
    assertThat(invalidInput(pipeline, bytes("image", "GIF89a...".getBytes(StandardCharsets.US_ASCII))))
        .isEqualTo("pipeline 'p': node 'n': input 'image': not a JPEG or PNG image (first bytes 47 49 46 38)");
    assertThat(invalidInput(pipeline, bytes("image", new byte[] {1, 2})))
        .isEqualTo("pipeline 'p': node 'n': input 'image': not a JPEG or PNG image (first bytes 01 02)");

    byte[] png = encode(noise(), "png");
    assertThat(invalidInput(pipeline, bytes("image", Arrays.copyOf(png, 20))))
        .startsWith("pipeline 'p': node 'n': input 'image': not a valid PNG image, its header cannot be read (");
    assertThat(invalidInput(pipeline, bytes("image", Arrays.copyOf(png, png.length / 2))))
        .startsWith("pipeline 'p': node 'n': input 'image': not a valid PNG image, it does not decode (");

    // Cut inside its data, the JDK would decode a JPEG anyway, filling the rest with gray; its warning refuses it.
    byte[] jpeg = encode(noise(), "jpeg");
    assertThat(invalidInput(pipeline, bytes("image", Arrays.copyOf(jpeg, jpeg.length - 200))))
        .startsWith("pipeline 'p': node 'n': input 'image': not a valid JPEG image (the decoder warns: ");
    assertThat(invalidInput(pipeline, bytes("image", Arrays.copyOf(jpeg, 40))))
        .startsWith("pipeline 'p': node 'n': input 'image': not a valid JPEG image, its header cannot be read (");
  }

  private static BufferedImage noise() {
    BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_3BYTE_BGR);
    Random random = new Random(7);
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        image.setRGB(x, y, random.nextInt());
      }
    }
    return image;
  }

  @Test
  void takesExactlyOneImage() throws Exception {
    Pipeline open = compile(yaml("image.decode", "{}", "image", "BYTES", "[-1]", "pixels"));
    byte[] png = encode(fourByTwo(), "png");
    assertThat(invalidInput(open, bytes("image", png, png))).isEqualTo("pipeline 'p': node 'n': input 'image':"
        + " BYTES[2] (expected: BYTES [1], exactly one encoded image)");

    assertThat(problems(yaml("image.decode", "{}", "image", "BYTES", "[2]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': inputs.image: BYTES[2] (expected: BYTES [1], one encoded image)");
    assertThat(problems(yaml("image.decode", "{}", "image", "UINT8", "[-1]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': inputs.image: UINT8[-1] (expected: BYTES [1], one encoded image)");
  }

  @Test
  void refusesParametersItCannotTake() {
    assertThat(problems(yaml("image.decode", "{color: RGBA}", "image", "BYTES", "[1]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.color: is RGBA (expected one of: RGB, BGR)");
    assertThat(problems(yaml("image.decode", "{max_pixels: 0}", "image", "BYTES", "[1]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.max_pixels: is 0 (expected: an integer from 1 to"
            + " 715827882)");
    assertThat(problems(yaml("image.decode", "{max_pixels: 1.5}", "image", "BYTES", "[1]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.max_pixels: is 1.5 (expected: an integer from 1 to"
            + " 715827882)");
    assertThat(problems(yaml("image.decode", "{colour: RGB}", "image", "BYTES", "[1]", "pixels")))
        .containsExactly("pipeline.yaml: node 'n': params.colour: unknown parameter (expected one of: color,"
            + " max_pixels, min_side)");
  }
}
