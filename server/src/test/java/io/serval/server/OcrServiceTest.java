package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.ContentDisposition;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.multipart.BodyPart;
import com.linecorp.armeria.common.multipart.Multipart;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontFormatException;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The built-in {@code ocr} pipeline (PP-OCRv4 detection, the orientation classifier, PP-OCRv4 recognition) through
 * {@code POST /v1/pipelines/ocr} of a server on {@code models/}: text lines that the test renders with Java2D in
 * DejaVu Sans, Serif and Mono and in WenQuanYi Micro Hei (Latin letters, digits and Chinese, several sizes), single
 * lines upright and upside down and pages of several lines, each sent as a PNG file; the golden page; bad images;
 * and the same single lines, cut close, through {@code POST /v1/pipelines/text-orientation}.
 *
 * <p>The character error rate that must stay within 5% counts spaces. The general Chinese PP-OCRv4 recogniser often
 * runs Latin words together (RapidOCR on the same models reads these images at 5.5% counting spaces, 0% without);
 * the pipeline's {@code space_threshold} puts a space back where the model gave the space class at least 1% between
 * two letters. The rate without spaces, the recogniser's reading of the characters alone, is printed too.
 */
class OcrServiceTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Path GOLDEN = TestRepositories.MODELS.resolve("ocr").resolve("golden");
  private static final Path DEJAVU = Path.of("/usr/share/fonts/truetype/dejavu");
  private static final Path WQY = Path.of("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc");
  private static final Color INK = Color.BLACK;
  private static final Color PAPER = Color.WHITE;
  /** Whether to write the golden page and the service's answer anew first: {@code -Dserval.ocr.golden=update}. */
  private static final boolean UPDATE_GOLDEN = "update".equals(System.getProperty("serval.ocr.golden"));

  private static RunningServer server;
  private static BlockingWebClient http;
  private static Font sans;
  private static Font serif;
  private static Font mono;
  private static Font chinese;
  private static List<Sample> samples;
  private static List<Line> singleLines;
  private static List<Answer> answers;

  /** An image the test renders, the lines it shows top to bottom, and whether they are upside down. */
  private record Sample(String name, BufferedImage image, List<String> lines, boolean upsideDown) {}

  /** The service's answer for one image, line by line. */
  private record Answer(List<String> text, List<double[]> boxes, List<Double> scores, List<Boolean> rotated) {}

  /** A line to render: its text, font and size in pixels. */
  private record Line(String text, Font font, float size) {}

  @BeforeAll
  static void start() throws Exception {
    sans = font(DEJAVU.resolve("DejaVuSans.ttf"), "fonts-dejavu-core");
    serif = font(DEJAVU.resolve("DejaVuSerif.ttf"), "fonts-dejavu-core");
    mono = font(DEJAVU.resolve("DejaVuSansMono.ttf"), "fonts-dejavu-core");
    chinese = font(WQY, "fonts-wqy-microhei");
    server = RunningServer.start(TestRepositories.MODELS);
    http = WebClient.builder(server.httpUri()).build().blocking();
    samples = samples();
    answers = new ArrayList<>();
    for (Sample sample : samples) {
      AggregatedHttpResponse response = upload(sample.name() + ".png", png(sample.image()));
      assertThat(response.status()).as(sample.name() + ": " + response.contentUtf8()).isEqualTo(HttpStatus.OK);
      answers.add(answer(MAPPER.readTree(response.contentUtf8())));
    }
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** The first font in {@code file}; a missing file fails with the Debian package that has it. */
  private static Font font(Path file, String debianPackage) throws IOException, FontFormatException {
    assertThat(file).as("font file " + file + " is missing (expected: Debian package " + debianPackage
        + ", which .ci/run installs)").isRegularFile();
    return Font.createFonts(file.toFile())[0];
  }

  /**
   * What the test sends: 14 single lines upright and 8 upside down (each in one of the four fonts, 20 to 40
   * pixels), and 3 pages of 4 or 5 lines in mixed fonts and sizes.
   */
  private static List<Sample> samples() {
    List<Line> upright = List.of(
        new Line("Serval serves models 2026", sans, 32),
        new Line("The quick brown fox jumps", serif, 28),
        new Line("Invoice 4711 due 2026", mono, 24),
        new Line("Temperature 23 degrees", sans, 20),
        new Line("OCR on the JVM", serif, 40),
        new Line("Order 9876543210", mono, 30),
        new Line("光学字符识别", chinese, 32),
        new Line("今天天气很好", chinese, 28),
        new Line("北京欢迎你 2026", chinese, 36),
        new Line("模型推理服务", chinese, 24),
        new Line("中文和English混合", chinese, 30),
        new Line("价格 128 元", chinese, 28),
        new Line("Serval 推理服务器", chinese, 34),
        new Line("数字 0123456789", chinese, 26));
    List<Line> upsideDown = List.of(
        new Line("Upside down line 42", sans, 32),
        new Line("Rotated text reads fine", serif, 28),
        new Line("倒过来的文字", chinese, 32),
        new Line("Mono 0123456789", mono, 28),
        new Line("识别旋转的文本行", chinese, 28),
        new Line("Serif 180 degrees", serif, 34),
        new Line("上下颠倒 2048", chinese, 30),
        new Line("Batch 16 lines", sans, 24));
    singleLines = new ArrayList<>(upright);
    singleLines.addAll(upsideDown);
    List<Sample> samples = new ArrayList<>();
    for (int i = 0; i < upright.size(); i++) {
      Line line = upright.get(i);
      samples.add(new Sample("line-" + i, page(List.of(line)), List.of(line.text()), false));
    }
    for (int i = 0; i < upsideDown.size(); i++) {
      Line line = upsideDown.get(i);
      samples.add(new Sample("upside-down-" + i, turned(page(List.of(line))), List.of(line.text()), true));
    }
    List<List<Line>> pages = List.of(
        List.of(new Line("Page one first line", sans, 30), new Line("第二行是中文内容", chinese, 30),
            new Line("Third line 333", serif, 30), new Line("最后一行 end", chinese, 30)),
        List.of(new Line("欢迎使用文字识别", chinese, 26), new Line("Lines in reading order", serif, 24),
            new Line("每行一个文本框", chinese, 32), new Line("Model version 1", mono, 22),
            new Line("谢谢", chinese, 36)),
        goldenLines());
    for (int i = 0; i < pages.size(); i++) {
      samples.add(new Sample("page-" + i, page(pages.get(i)), pages.get(i).stream().map(Line::text).toList(),
          false));
    }
    return samples;
  }

  /** The lines of the golden page, {@code models/ocr/golden/page.png}. */
  private static List<Line> goldenLines() {
    return List.of(new Line("Serval OCR 2026", sans, 32), new Line("文字识别服务", chinese, 30),
        new Line("Golden page 42", serif, 28), new Line("每行一个答案", chinese, 28));
  }

  /**
   * Black lines on white, left-aligned, each below the one before with a gap of half its size, and a margin of
   * the largest size all round.
   */
  private static BufferedImage page(List<Line> lines) {
    return page(lines, 1);
  }

  /** One line cut close, as a text detector's crop: a margin of an eighth of its size. */
  private static BufferedImage strip(Line line) {
    return page(List.of(line), 0.125f);
  }

  /** {@link #page(List)} with a margin of {@code marginPerSize} times the largest size. */
  private static BufferedImage page(List<Line> lines, float marginPerSize) {
    Graphics2D scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
    int margin = 0;
    int width = 0;
    int height = 0;
    for (Line line : lines) {
      FontMetrics metrics = scratch.getFontMetrics(line.font().deriveFont(line.size()));
      margin = Math.max(margin, Math.round(line.size() * marginPerSize));
      width = Math.max(width, metrics.stringWidth(line.text()));
      height += metrics.getHeight() + (lines.size() == 1 ? 0 : Math.round(line.size() / 2));
    }
    scratch.dispose();
    BufferedImage image = new BufferedImage(width + 2 * margin, height + 2 * margin, BufferedImage.TYPE_INT_RGB);
    Graphics2D graphics = image.createGraphics();
    graphics.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    graphics.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
    graphics.setColor(PAPER);
    graphics.fillRect(0, 0, image.getWidth(), image.getHeight());
    graphics.setColor(INK);
    int y = margin;
    for (Line line : lines) {
      graphics.setFont(line.font().deriveFont(line.size()));
      FontMetrics metrics = graphics.getFontMetrics();
      graphics.drawString(line.text(), margin, y + metrics.getAscent());
      y += metrics.getHeight() + Math.round(line.size() / 2);
    }
    graphics.dispose();
    return image;
  }

  /** The image turned by 180 degrees, pixel for pixel. */
  private static BufferedImage turned(BufferedImage image) {
    int width = image.getWidth();
    int height = image.getHeight();
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        out.setRGB(width - 1 - x, height - 1 - y, image.getRGB(x, y));
      }
    }
    return out;
  }

  private static byte[] png(BufferedImage image) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static AggregatedHttpResponse upload(String file, byte[] bytes) {
    return upload("ocr", file, bytes);
  }

  private static AggregatedHttpResponse upload(String pipeline, String file, byte[] bytes) {
    Multipart form = Multipart.of(BodyPart.of(ContentDisposition.builder("form-data").name("image").filename(file)
        .build(), HttpData.wrap(bytes)));
    return http.execute(form.toHttpRequest("/v1/pipelines/" + pipeline));
  }

  /** The answer's outputs, line by line. */
  private static Answer answer(JsonNode body) {
    List<String> text = elements(body.get("text")).stream().map(JsonNode::asText).toList();
    List<double[]> boxes = new ArrayList<>();
    for (JsonNode box : body.get("boxes")) {
      double[] corners = new double[8];
      for (int k = 0; k < 4; k++) {
        corners[2 * k] = box.get(k).get(0).doubleValue();
        corners[2 * k + 1] = box.get(k).get(1).doubleValue();
      }
      boxes.add(corners);
    }
    List<Double> scores = elements(body.get("scores")).stream().map(JsonNode::doubleValue).toList();
    List<Boolean> rotated = elements(body.get("rotated")).stream().map(JsonNode::booleanValue).toList();
    assertThat(List.of(boxes.size(), scores.size(), rotated.size())).as(body.toString())
        .containsOnly(text.size());
    return new Answer(text, boxes, scores, rotated);
  }

  /**
   * An output's elements, one per line: the endpoint writes a tensor of one element (a page of one line) as that
   * element, and others as a list.
   */
  private static List<JsonNode> elements(JsonNode output) {
    if (!output.isArray()) {
      return List.of(output);
    }
    List<JsonNode> elements = new ArrayList<>();
    output.forEach(elements::add);
    return elements;
  }

  @Test
  void readsTheRenderedLinesWithFewCharacterErrors() {
    long errors = 0;
    long characters = 0;
    long errorsWithoutSpaces = 0;
    long charactersWithoutSpaces = 0;
    int lines = 0;
    List<String> misread = new ArrayList<>();
    for (int i = 0; i < samples.size(); i++) {
      Sample sample = samples.get(i);
      // The lines joined by line breaks (not counted as characters): a line missed, split, merged or out of order
      // costs the characters it moves.
      String expected = String.join("\n", sample.lines());
      String read = String.join("\n", answers.get(i).text());
      int distance = editDistance(expected, read);
      errors += distance;
      characters += length(expected) - (sample.lines().size() - 1);
      errorsWithoutSpaces += editDistance(withoutSpaces(expected), withoutSpaces(read));
      charactersWithoutSpaces += length(withoutSpaces(expected)) - (sample.lines().size() - 1);
      lines += sample.lines().size();
      if (distance > 0) {
        misread.add(sample.name() + ": " + sample.lines() + " read as " + answers.get(i).text());
      }
    }
    double rate = (double) errors / characters;
    System.out.printf("ocr: %d images, %d lines, %d characters: character error rate %.2f%% counting spaces, %.2f%%"
        + " without%n", samples.size(), lines, characters, 100 * rate,
        100.0 * errorsWithoutSpaces / charactersWithoutSpaces);

    assertThat(lines).isGreaterThanOrEqualTo(20);
    assertThat(rate).as("character error rate; misread: " + misread).isLessThanOrEqualTo(0.05);
  }

  @Test
  void linesUpsideDownAreTurnedAndRead() {
    int upsideDown = 0;
    int recognised = 0;
    int readRight = 0;
    for (int i = 0; i < samples.size(); i++) {
      Sample sample = samples.get(i);
      Answer answer = answers.get(i);
      if (sample.upsideDown()) {
        upsideDown++;
        recognised += answer.rotated().equals(List.of(true)) ? 1 : 0;
        readRight += withoutSpaces(String.join("", answer.text())).equals(withoutSpaces(sample.lines().get(0)))
            ? 1 : 0;
      } else {
        assertThat(answer.rotated()).as(sample.name() + " is upright").doesNotContain(true);
      }
    }
    System.out.printf("ocr: %d of %d lines upside down recognised as such, %d read right but for spaces%n", recognised,
        upsideDown, readRight);

    assertThat(upsideDown).isEqualTo(8);
    assertThat((double) recognised / upsideDown).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void textOrientationTellsLinesUpsideDownFromUprightOnes() throws Exception {
    int right = 0;
    List<String> wrong = new ArrayList<>();
    for (Line line : singleLines) {
      BufferedImage upright = strip(line);
      for (boolean upsideDown : List.of(false, true)) {
        AggregatedHttpResponse response = upload("text-orientation", "line.png",
            png(upsideDown ? turned(upright) : upright));
        assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
        JsonNode answer = MAPPER.readTree(response.contentUtf8());
        String expected = upsideDown ? "180" : "0";
        if (answer.get("label").asText().equals(expected)) {
          right++;
        } else {
          wrong.add("'" + line.text() + "' turned by " + expected + " answered " + answer);
        }
      }
    }
    int images = 2 * singleLines.size();
    System.out.printf("text-orientation: %d of %d lines (each upright and upside down) answered right%n", right,
        images);

    assertThat(images).isEqualTo(44);
    assertThat((double) right / images).as("answered wrong: " + wrong).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void pagesAnswerTheirLinesInReadingOrder() {
    for (int i = 0; i < samples.size(); i++) {
      Sample sample = samples.get(i);
      Answer answer = answers.get(i);
      assertThat(answer.text()).as(sample.name() + ": one answer per line").hasSameSizeAs(sample.lines());
      for (int line = 1; line < answer.boxes().size(); line++) {
        double[] box = answer.boxes().get(line);
        double[] above = answer.boxes().get(line - 1);
        // Each line's top edge is below the one before's bottom edge: read top to bottom.
        assertThat(Math.min(box[1], box[3])).as(sample.name() + ": line " + line + " below line " + (line - 1))
            .isGreaterThan(Math.max(above[5], above[7]));
      }
    }
  }

  @Test
  void theGoldenPageIsAnsweredAsStored() throws Exception {
    if (UPDATE_GOLDEN) {
      byte[] rendered = png(page(goldenLines()));
      JsonNode written = MAPPER.readTree(upload("page.png", rendered).contentUtf8());
      Files.write(GOLDEN.resolve("page.png"), rendered);
      Files.writeString(GOLDEN.resolve("page.json"), MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(written)
          + "\n");
    }
    byte[] page = Files.readAllBytes(GOLDEN.resolve("page.png"));
    JsonNode expected = MAPPER.readTree(GOLDEN.resolve("page.json").toFile());

    AggregatedHttpResponse response = upload("page.png", page);

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    Answer answer = answer(MAPPER.readTree(response.contentUtf8()));
    Answer stored = answer(expected);
    assertThat(answer.text()).isEqualTo(stored.text());
    assertThat(answer.text()).isEqualTo(goldenLines().stream().map(Line::text).toList());
    assertThat(answer.rotated()).isEqualTo(stored.rotated());
    for (int line = 0; line < stored.boxes().size(); line++) {
      for (int k = 0; k < 8; k++) {
        assertThat(answer.boxes().get(line)[k]).as("line " + line + ", coordinate " + k)
            .isCloseTo(stored.boxes().get(line)[k], within(2.0));
      }
      assertThat(answer.scores().get(line)).isCloseTo(stored.scores().get(line), within(1e-3));
    }
  }

  @Test
  void badImagesAreRefusedNamingTheProblem() throws Exception {
    byte[] jpeg = jpeg(page(List.of(new Line("Truncated 1234", sans, 30))));

    assertError(http.prepare().post("/v1/pipelines/ocr").execute(), HttpStatus.BAD_REQUEST,
        "the request has no body (expected: a JSON object of inputs, {\"image\": ...}, or a multipart/form-data"
            + " upload)");
    assertError(upload("empty.png", new byte[0]), HttpStatus.BAD_REQUEST,
        "pipeline 'ocr': node 'decode': input 'image': empty (expected: a JPEG or PNG image)");
    assertError(upload("notes.txt", "not an image".getBytes(StandardCharsets.UTF_8)), HttpStatus.BAD_REQUEST,
        "pipeline 'ocr': node 'decode': input 'image': not a JPEG or PNG image (first bytes 6e 6f 74 20)");
    assertError(upload("truncated.jpg", Arrays.copyOf(jpeg, jpeg.length / 2)), HttpStatus.BAD_REQUEST,
        "pipeline 'ocr': node 'decode': input 'image': not a valid JPEG image (the decoder warns: Truncated File -"
            + " Missing EOI marker)");
    assertError(upload("huge.png", pngHeader(20_000, 20_000)), HttpStatus.BAD_REQUEST,
        "pipeline 'ocr': node 'decode': input 'image': a PNG image of 20000 x 20000 pixels, over max_pixels"
            + " (40000000); refused before decoding");
    // A 1 x 1 image is refused from its header: text needs at least 8 pixels (the pipeline's min_side).
    assertError(upload("tiny.png", png(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB))), HttpStatus.BAD_REQUEST,
        "pipeline 'ocr': node 'decode': input 'image': a PNG image of 1 x 1 pixels (expected: at least 8 x 8,"
            + " min_side)");
  }

  private static void assertError(AggregatedHttpResponse response, HttpStatus status, String message)
      throws Exception {
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(status);
    assertThat(MAPPER.readTree(response.contentUtf8()).get("error").asText()).isEqualTo(message);
  }

  private static byte[] jpeg(BufferedImage image) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "jpeg", out);
    return out.toByteArray();
  }

  /** A PNG file of a header (IHDR, 8-bit RGB) that claims {@code width x height} pixels, and no pixels. */
  private static byte[] pngHeader(int width, int height) {
    ByteBuffer header = ByteBuffer.allocate(8 + 25);
    header.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    header.putInt(13).put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width).putInt(height)
        .put(new byte[] {8, 2, 0, 0, 0});
    CRC32 crc = new CRC32();
    crc.update(header.array(), 12, 17);
    header.putInt((int) crc.getValue());
    return header.array();
  }

  private static String withoutSpaces(String text) {
    return text.replace(" ", "");
  }

  private static int length(String text) {
    return text.codePointCount(0, text.length());
  }

  /** The Levenshtein distance between two strings, counted in code points. */
  private static int editDistance(String a, String b) {
    int[] x = a.codePoints().toArray();
    int[] y = b.codePoints().toArray();
    int[] previous = new int[y.length + 1];
    int[] current = new int[y.length + 1];
    for (int j = 0; j <= y.length; j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= x.length; i++) {
      current[0] = i;
      for (int j = 1; j <= y.length; j++) {
        int substitution = previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1);
        current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[y.length];
  }
}
