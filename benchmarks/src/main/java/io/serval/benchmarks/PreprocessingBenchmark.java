package io.serval.benchmarks;

import io.serval.core.InferenceResult;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import io.serval.dag.InvalidPipelineException;
import io.serval.dag.Pipeline;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Image pre-processing as an ImageNet classifier's pipeline does it, in images per second: a 640x480 JPEG
 * ({@code benchmarks/data/photo-640x480.jpg}) through {@code image.decode}, {@code image.resize} (shorter side to
 * 256: 341x256), {@code image.center_crop} (224x224) and {@code image.normalize} (ImageNet mean and std, CHW
 * FP32). {@code step} picks what runs: {@code pipeline}, all four as one pipeline; {@code decode},
 * {@code resize}, {@code center_crop} or {@code normalize}, that operator alone as a one-node pipeline on what the
 * step before it makes; {@code jdk_decoder}, the JDK's JPEG reader alone, as {@code image.decode} calls it, without
 * the copy of its pixels into a tensor. Each on the server's kind of node threads ({@link PipelineRuns}), with 1
 * and 2 callers at once (one per core here: per core is the 2-caller rate over the cores).
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class PreprocessingBenchmark {
  /** The test image, on the classpath. */
  private static final String IMAGE = "/photo-640x480.jpg";

  /** The steps in the order the pipeline runs them. */
  private static final List<String> ORDER = List.of("decode", "resize", "center_crop", "normalize");
  private static final Map<String, String> NODES = Map.of(
      "decode", "{name: decode, op: image.decode, inputs: {image: image}}",
      "resize", "{name: resize, op: image.resize, inputs: {pixels: %s},"
          + " params: {mode: shorter_side, size: 256}}",
      "center_crop", "{name: center_crop, op: image.center_crop, inputs: {pixels: %s},"
          + " params: {width: 224, height: 224}}",
      "normalize", "{name: normalize, op: image.normalize, inputs: {pixels: %s},"
          + " params: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}");
  private static final String IMAGE_INPUT = "inputs: [{name: image, datatype: BYTES, dims: [1]}]\n";
  private static final String PIXELS_INPUT = "inputs: [{name: pixels, datatype: UINT8, dims: [-1, -1, 3]}]\n";

  @Param({"pipeline", "decode", "resize", "center_crop", "normalize", "jdk_decoder"})
  public String step;

  private ExecutorService nodes;
  private MemoryScope stages;
  private Supplier<Object> work;

  @Setup
  public void start() throws IOException, InvalidPipelineException {
    byte[] jpeg;
    try (InputStream in = PreprocessingBenchmark.class.getResourceAsStream(IMAGE)) {
      if (in == null) {
        throw new IOException(IMAGE + " is not on the classpath");
      }
      jpeg = in.readAllBytes();
    }
    nodes = PipelineRuns.nodeThreads();
    List<Tensor> image = List.of(Tensor.ofBytes("image", new long[] {1}, List.of(jpeg)));
    stages = MemoryScope.open();
    switch (step) {
      case "pipeline" -> {
        Pipeline pipeline = PipelineRuns.compile(step, IMAGE_INPUT
            + "outputs: [{name: tensor, from: normalize.tensor}]\nnodes:\n" + firstNodes(4));
        work = () -> PipelineRuns.infer(pipeline, image, nodes);
      }
      case "decode" -> {
        Pipeline pipeline = PipelineRuns.compile(step, IMAGE_INPUT
            + "outputs: [{name: pixels, from: decode.pixels}]\nnodes: [" + NODES.get("decode") + "]\n");
        work = () -> PipelineRuns.infer(pipeline, image, nodes);
      }
      case "jdk_decoder" -> work = () -> decodeWithImageIo(jpeg);
      default -> {
        String before = ORDER.get(ORDER.indexOf(step) - 1);
        // A step's input is what the step before it made of the image, once, through the whole pipeline; it
        // lives in the stages' memory until tearDown.
        InferenceResult staged = PipelineRuns.inferIn(stages, PipelineRuns.compile("stages", IMAGE_INPUT
            + "outputs: [{name: decode, from: decode.pixels}, {name: resize, from: resize.pixels},"
            + " {name: center_crop, from: center_crop.pixels}]\n"
            + "nodes:\n" + firstNodes(3)), image, nodes);
        String output = step.equals("normalize") ? "tensor" : "pixels";
        Pipeline pipeline = PipelineRuns.compile(step, PIXELS_INPUT + "outputs: [{name: " + output + ", from: "
            + step + "." + output + "}]\nnodes: [" + String.format(NODES.get(step), "pixels") + "]\n");
        List<Tensor> pixels = List.of(staged.outputs().stream().filter(t -> t.name().equals(before)).findFirst()
            .orElseThrow().withName("pixels"));
        work = () -> PipelineRuns.infer(pipeline, pixels, nodes);
      }
    }
  }

  @TearDown
  public void stop() {
    nodes.shutdown();
    stages.release();
  }

  @Benchmark
  @Threads(1)
  public Object threads1() {
    return work.get();
  }

  @Benchmark
  @Threads(2)
  public Object threads2() {
    return work.get();
  }

  /** The first {@code count} nodes of the whole pre-processing (decode, resize, center_crop, normalize), chained. */
  private static String firstNodes(int count) {
    StringBuilder yaml = new StringBuilder("  - " + NODES.get("decode") + "\n");
    for (int i = 1; i < count; i++) {
      yaml.append("  - ").append(String.format(NODES.get(ORDER.get(i)), ORDER.get(i - 1) + ".pixels")).append("\n");
    }
    return yaml.toString();
  }

  /** The JDK's JPEG reader as {@code image.decode} uses it: from memory, no cache file. */
  private static BufferedImage decodeWithImageIo(byte[] jpeg) {
    ImageReader reader = ImageIO.getImageReadersByFormatName("JPEG").next();
    try (ImageInputStream stream = new MemoryCacheImageInputStream(new ByteArrayInputStream(jpeg))) {
      reader.setInput(stream, true, true);
      return reader.read(0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      reader.dispose();
    }
  }
}
