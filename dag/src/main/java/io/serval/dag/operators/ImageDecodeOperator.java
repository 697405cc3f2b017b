package io.serval.dag.operators;

import io.serval.core.DataType;
import io.serval.core.InternalException;
import io.serval.core.InvalidInputException;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.NodeContext;
import io.serval.dag.NodeParameters;
import io.serval.dag.Operator;
import io.serval.dag.OperatorFactory;
import io.serval.dag.ServableResolver;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * {@code op: image.decode}, {@code params: {color: RGB|BGR, max_pixels: N, min_side: N}}: input {@code image}
 * (BYTES of shape [1]: one JPEG or PNG file), output {@code pixels}: UINT8 [height, width, 3], rows top to bottom, channels in
 * {@code color} order (default RGB).
 *
 * <p>Grayscale, palette and 16-bit images become 3 channels of 8 bits (grayscale values repeated, 16-bit samples
 * cut to their high byte, palette entries looked up); alpha is dropped, not blended. A PNG's gamma and color
 * profile are not applied; a JPEG is what the JDK decoder makes of it (converted to sRGB when it decodes to another
 * color space).
 *
 * <p>Refused, as invalid input naming {@code image}: anything but exactly one element, an empty element, bytes
 * that are neither JPEG nor PNG (by their signature), a file whose header cannot be read, an image of more than
 * {@code max_pixels} pixels (default 40,000,000) or with a side under {@code min_side} pixels (default 1) &mdash;
 * read from the header and refused <em>before</em>
 * decoding, so a small file claiming a huge image (a decompression bomb) costs nothing &mdash; and a file that does
 * not decode cleanly: a decoder warning (a truncated JPEG, which the JDK would otherwise fill with gray) is
 * refused like an error.
 */
public final class ImageDecodeOperator implements Operator {
  /** The most pixels {@code max_pixels} allows: 3 bytes each must fit one tensor (2 GiB). */
  static final int MAX_PIXELS_LIMIT = Integer.MAX_VALUE / 3;

  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final byte[] JPEG_SIGNATURE = {(byte) 0xff, (byte) 0xd8, (byte) 0xff};

  private final boolean bgr;
  private final long maxPixels;
  private final int minSide;

  private ImageDecodeOperator(boolean bgr, long maxPixels, int minSide) {
    this.minSide = minSide;
    this.bgr = bgr;
    this.maxPixels = maxPixels;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "image.decode";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("color", "max_pixels", "min_side"));
      String color = parameters.choice("color", "RGB", List.of("RGB", "BGR"));
      int maxPixels = parameters.integer("max_pixels", 40_000_000, 1, MAX_PIXELS_LIMIT);
      return new ImageDecodeOperator(color.equals("BGR"), maxPixels,
          parameters.integer("min_side", 1, 1, ImageResizeOperator.MAX_SIDE));
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("image");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec image = inputs.get("image");
    long[] shape = image.shape();
    if (image.dataType() != DataType.BYTES || shape.length != 1 || shape[0] == 0 || shape[0] > 1) {
      throw new IllegalArgumentException("inputs.image: " + image.dataType().wireName() + Shapes.format(shape)
          + " (expected: BYTES [1], one encoded image)");
    }
    return List.of(TensorSpec.of("pixels", DataType.UINT8, Shapes.DYNAMIC, Shapes.DYNAMIC, 3));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor image = inputs.get("image");
    if (image.dataType() != DataType.BYTES || image.elementCount() != 1) {
      throw new InvalidInputException("input 'image': " + image.dataType().wireName()
          + Shapes.format(image.shape()) + " (expected: BYTES [1], exactly one encoded image)");
    }
    byte[] bytes = image.bytesElements().get(0);
    BufferedImage decoded = decode(bytes);
    int width = decoded.getWidth();
    int height = decoded.getHeight();
    ByteBuffer buffer = context.memory().allocate((long) width * height * 3);
    write(decoded, buffer);
    return CompletableFuture.completedFuture(
        List.of(Tensor.of("pixels", DataType.UINT8, new long[] {height, width, 3}, buffer)));
  }

  private BufferedImage decode(byte[] bytes) {
    String format;
    if (startsWith(bytes, PNG_SIGNATURE)) {
      format = "PNG";
    } else if (startsWith(bytes, JPEG_SIGNATURE)) {
      format = "JPEG";
    } else if (bytes.length == 0) {
      throw new InvalidInputException("input 'image': empty (expected: a JPEG or PNG image)");
    } else {
      throw new InvalidInputException("input 'image': not a JPEG or PNG image (first bytes " + firstBytes(bytes)
          + ")");
    }
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
    if (!readers.hasNext()) {
      throw new InternalException("this JDK has no " + format + " image reader");
    }
    ImageReader reader = readers.next();
    List<String> warnings = new ArrayList<>();
    reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
    try (ImageInputStream stream = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(stream, true, true);
      int width;
      int height;
      try {
        width = reader.getWidth(0);
        height = reader.getHeight(0);
      } catch (IOException | RuntimeException e) {
        throw corrupt(format, "its header cannot be read", e);
      }
      if (width < minSide || height < minSide) {
        throw new InvalidInputException("input 'image': a " + format + " image of " + width + " x " + height
            + " pixels (expected: at least " + minSide + " x " + minSide + ", min_side)");
      }
      if ((long) width * height > maxPixels) {
        throw new InvalidInputException("input 'image': a " + format + " image of " + width + " x " + height
            + " pixels, over max_pixels (" + maxPixels + "); refused before decoding");
      }
      BufferedImage decoded;
      try {
        decoded = reader.read(0);
      } catch (IOException | RuntimeException e) {
        throw corrupt(format, "it does not decode", e);
      }
      if (!warnings.isEmpty()) {
        throw new InvalidInputException("input 'image': not a valid " + format + " image (the decoder warns: "
            + warnings.get(0) + ")");
      }
      return decoded;
    } catch (IOException e) {
      throw corrupt(format, "it cannot be read", e);
    } finally {
      reader.dispose();
    }
  }

  private static InvalidInputException corrupt(String format, String what, Exception e) {
    String detail = describe(e);
    if (e.getCause() != null) {
      detail += ": " + describe(e.getCause());
    }
    return new InvalidInputException("input 'image': not a valid " + format + " image, " + what + " (" + detail
        + ")", e);
  }

  private static String describe(Throwable e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /**
   * Writes the pixels as 8-bit HWC in the configured order. Gray and RGB images with plain components are read
   * from the raster, sample by sample (the JDK's own conversion would apply a gamma to gray); anything else
   * (palettes, packed pixels, other color spaces) goes through {@link BufferedImage#getRGB}, row by row.
   */
  private void write(BufferedImage image, ByteBuffer buffer) {
    int width = image.getWidth();
    int height = image.getHeight();
    int first = bgr ? 2 : 0;
    int last = bgr ? 0 : 2;
    ColorModel model = image.getColorModel();
    ColorSpace space = model.getColorSpace();
    boolean gray = space.getType() == ColorSpace.TYPE_GRAY && model.getNumColorComponents() == 1;
    boolean plain = model instanceof ComponentColorModel && !model.isAlphaPremultiplied()
        && (gray || space.isCS_sRGB()) && eightOrSixteen(model);
    if (plain) {
      Raster raster = image.getRaster();
      int bands = raster.getNumBands();
      int shift = model.getComponentSize(0) - 8;
      int[] row = new int[width * bands];
      for (int y = 0; y < height; y++) {
        raster.getPixels(0, y, width, 1, row);
        for (int x = 0; x < width; x++) {
          int at = (y * width + x) * 3;
          int in = x * bands;
          if (gray) {
            byte value = (byte) (row[in] >> shift);
            buffer.put(at, value).put(at + 1, value).put(at + 2, value);
          } else {
            buffer.put(at + first, (byte) (row[in] >> shift))
                .put(at + 1, (byte) (row[in + 1] >> shift))
                .put(at + last, (byte) (row[in + 2] >> shift));
          }
        }
      }
      return;
    }
    int[] row = new int[width];
    for (int y = 0; y < height; y++) {
      image.getRGB(0, y, width, 1, row, 0, width);
      for (int x = 0; x < width; x++) {
        int at = (y * width + x) * 3;
        int argb = row[x];
        buffer.put(at + first, (byte) (argb >> 16)).put(at + 1, (byte) (argb >> 8)).put(at + last, (byte) argb);
      }
    }
  }

  private static boolean eightOrSixteen(ColorModel model) {
    int size = model.getComponentSize(0);
    if (size != 8 && size != 16) {
      return false;
    }
    for (int i = 1; i < model.getNumComponents(); i++) {
      if (model.getComponentSize(i) != size) {
        return false;
      }
    }
    return true;
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    if (bytes.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (bytes[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static String firstBytes(byte[] bytes) {
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < Math.min(4, bytes.length); i++) {
      hex.append(i == 0 ? "" : " ").append(String.format("%02x", bytes[i] & 0xff));
    }
    return hex.toString();
  }
}
