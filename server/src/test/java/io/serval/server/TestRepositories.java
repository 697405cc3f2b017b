package io.serval.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** Model repositories for tests, made from the built-in model in {@code models/} of the project. */
public final class TestRepositories {
  static final Path MODELS = Path.of("..", "models").toAbsolutePath().normalize();
  static final Path BUILT_IN = MODELS.resolve("ocr_orientation");
  static final Path MODEL_FILE = BUILT_IN.resolve("1").resolve("model.onnx");
  static final String MODEL = "ocr_orientation";
  static final String INPUT = "x";
  static final String OUTPUT = "softmax_0.tmp_0";

  private TestRepositories() {}

  /** Copies the built-in model folder to {@code repo/name}. */
  static Path copyBuiltIn(Path repo, String name) {
    Path target = repo.resolve(name);
    copyTree(BUILT_IN, target);
    return target;
  }

  /** Copies the folder {@code from}, with everything below it, to {@code to}. */
  public static void copyTree(Path from, Path to) {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : (Iterable<Path>) files::iterator) {
        Path destination = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(destination);
        } else {
          Files.copy(source, destination, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The exact affine model as {@code affine} (batches of up to 8) and pipeline {@code scores} over it: outputs
   * {@code probabilities} (its softmax) and {@code affine} (its own output), for input {@code x} FP32 [-1, 4].
   */
  static void scoresPipeline(Path repo) throws IOException {
    affineModel(repo, "affine", "max_batch_size: 8\ndynamic_batching: {}\n");
    Files.createDirectories(repo.resolve("scores"));
    Files.writeString(repo.resolve("scores").resolve("pipeline.yaml"), """
        inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]
        outputs: [{name: probabilities, from: soft.y}, {name: affine, from: model.y}]
        nodes:
          - {name: model, op: infer, inputs: {x: x}, params: {model: affine}}
          - {name: soft, op: softmax, inputs: {x: model.y}}
        """);
  }

  /** The exact affine model as {@code paired}: its batch waits a minute for a second row, so two rows pair up. */
  static void pairedModel(Path repo) {
    affineModel(repo, "paired",
        "max_batch_size: 8\ndynamic_batching: {preferred_batch_sizes: [2], max_queue_delay_microseconds: 60000000}\n");
  }

  /** A model folder with the built-in ONNX file in each of {@code versions} and the given config (or none). */
  static Path onnxModel(Path repo, String name, String configYaml, long... versions) {
    try {
      Path dir = Files.createDirectories(repo.resolve(name));
      if (configYaml != null) {
        Files.writeString(dir.resolve("config.yaml"), configYaml);
      }
      Files.copy(BUILT_IN.resolve("labels.txt"), dir.resolve("labels.txt"), StandardCopyOption.REPLACE_EXISTING);
      for (long version : versions) {
        Path versionDir = Files.createDirectories(dir.resolve(Long.toString(version)));
        Files.copy(MODEL_FILE, versionDir.resolve("model.onnx"), StandardCopyOption.REPLACE_EXISTING);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A model folder {@code repo/name} with the exact affine test model (y = 2x + 1 on FP32 [batch, 4]). */
  static Path affineModel(Path repo, String name, String configYaml) {
    try {
      Path dir = Files.createDirectories(repo.resolve(name).resolve("1"));
      Files.writeString(repo.resolve(name).resolve("config.yaml"), configYaml);
      try (java.io.InputStream model = TestRepositories.class.getResourceAsStream("/models/affine/affine.onnx")) {
        Files.copy(java.util.Objects.requireNonNull(model, "affine.onnx"), dir.resolve("model.onnx"),
            StandardCopyOption.REPLACE_EXISTING);
      }
      return repo.resolve(name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The affine test model with its added constant set to {@code offset}: y = 2x + offset, a real ONNX model whose
   * every answer tells which one ran. The constant is the initializer {@code one} that make_affine.py writes as
   * 4 raw little-endian FP32 bytes, the only float 1.0 in the file; it is overwritten in place.
   */
  static byte[] affineWithOffset(float offset) {
    byte[] model;
    try (java.io.InputStream in = TestRepositories.class.getResourceAsStream("/models/affine/affine.onnx")) {
      model = java.util.Objects.requireNonNull(in, "affine.onnx").readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] one = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).array();
    int at = -1;
    for (int i = 0; i + 4 <= model.length; i++) {
      if (java.util.Arrays.equals(model, i, i + 4, one, 0, 4)) {
        if (at >= 0) {
          throw new IllegalStateException("affine.onnx holds float 1.0 twice; regenerate it with make_affine.py");
        }
        at = i;
      }
    }
    if (at < 0) {
      throw new IllegalStateException("affine.onnx has no float 1.0; regenerate it with make_affine.py");
    }
    ByteBuffer.wrap(model, at, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(offset);
    return model;
  }

  /** The golden input, float32 [2,3,48,192]: an upright and a rotated text line. */
  public static float[] goldenInput() {
    return floats(BUILT_IN.resolve("golden").resolve("input_x.bin"));
  }

  /** The golden output of ONNX Runtime, float32 [2,2]. */
  public static float[] goldenOutput() {
    return floats(BUILT_IN.resolve("golden").resolve("output_softmax.bin"));
  }

  /** The float32 little-endian bytes of {@code values}. */
  public static byte[] littleEndian(float[] values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buffer.asFloatBuffer().put(values);
    return buffer.array();
  }

  private static float[] floats(Path file) {
    try {
      ByteBuffer buffer = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
      float[] values = new float[buffer.remaining() / 4];
      buffer.asFloatBuffer().get(values);
      return values;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
