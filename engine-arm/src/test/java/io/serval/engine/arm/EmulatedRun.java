package io.serval.engine.arm;

import io.serval.engine.EngineContext;
import io.serval.engine.InferenceEngine;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The program {@link EmulatedAarch64Test} starts on the aarch64 JVM under qemu: creates the {@code arm} engine, runs
 * every built-in model on its fixed inputs ({@link BuiltInModels}), from {@code model.onnx} and from the {@code
 * model.ort} converted by {@link OrtModels}, and writes the outputs and what the JVM and ONNX Runtime say about the
 * platform.
 *
 * <pre>{@code
 * java -cp <test class path> io.serval.engine.arm.EmulatedRun ../models target/ort-models target/emulated-aarch64
 * }</pre>
 */
public final class EmulatedRun {
  /** The outputs of the {@code model.onnx} files, in {@link BuiltInModels#write}'s format. */
  static final String ONNX_OUTPUTS = "outputs-onnx.bin";
  /** The outputs of the {@code model.ort} files, in {@link BuiltInModels#write}'s format. */
  static final String ORT_OUTPUTS = "outputs-ort.bin";
  /** {@code os.arch}, ONNX Runtime's native folder and library, the engine's threading summary, run times. */
  static final String PLATFORM = "platform.properties";

  private EmulatedRun() {}

  /**
   * Arguments: the models folder, the folder of ORT-format models, and the folder to write {@link #ONNX_OUTPUTS},
   * {@link #ORT_OUTPUTS} and {@link #PLATFORM} into.
   */
  public static void main(String[] args) throws Exception {
    Path models = Path.of(args[0]);
    Path ortModels = Path.of(args[1]);
    Path out = Files.createDirectories(Path.of(args[2]));
    InferenceEngine engine = new ArmEngineProvider().create(EngineContext.of(BuiltInModels.CPU_THREADS, Map.of()));
    if (!engine.availability().isAvailable()) {
      throw new IllegalStateException("the arm engine is " + engine.availability());
    }
    Properties platform = new Properties();
    long started = System.nanoTime();
    write(BuiltInModels.runAll(engine, models, models, "model.onnx"), out.resolve(ONNX_OUTPUTS));
    long onnxDone = System.nanoTime();
    write(BuiltInModels.runAll(engine, models, ortModels, "model.ort"), out.resolve(ORT_OUTPUTS));
    platform.setProperty("onnx.millis", Long.toString((onnxDone - started) / 1_000_000));
    platform.setProperty("ort.millis", Long.toString((System.nanoTime() - onnxDone) / 1_000_000));

    platform.setProperty("os.arch", System.getProperty("os.arch"));
    platform.setProperty("onnxruntime.native.folder", onnxRuntimeNativeFolder());
    String library = mappedLibrary("libonnxruntime.so");
    platform.setProperty("onnxruntime.library", library);
    platform.setProperty("onnxruntime.library.machine", elfMachine(library));
    platform.setProperty("threading", engine.threadingSummary());
    try (OutputStream stream = Files.newOutputStream(out.resolve(PLATFORM))) {
      platform.store(stream, "EmulatedRun");
    }
    engine.close();
  }

  private static void write(Map<String, Map<String, float[]>> results, Path file) throws IOException {
    try (OutputStream stream = Files.newOutputStream(file)) {
      BuiltInModels.write(results, stream);
    }
  }

  /** The folder of the jar ONNX Runtime took its natives from ({@code linux-aarch64}), as it chose it. */
  private static String onnxRuntimeNativeFolder() throws ReflectiveOperationException {
    Field field = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("OS_ARCH_STR");
    field.setAccessible(true);
    return (String) field.get(null);
  }

  /** The file behind the first mapping of {@code name} in this process, as {@code /proc/self/maps} lists it. */
  private static String mappedLibrary(String name) throws IOException {
    List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
    for (String line : maps) {
      int slash = line.indexOf('/');
      if (slash >= 0 && line.substring(slash).contains("/" + name)) {
        return line.substring(slash);
      }
    }
    return "not mapped";
  }

  /**
   * The ELF machine of a library file: {@code aarch64} (183) or {@code x86-64} (62); {@code deleted} when ONNX
   * Runtime has already removed the copy it extracted from its jar, {@code none} when there is no such file.
   */
  private static String elfMachine(String library) throws IOException {
    if (library.endsWith(" (deleted)")) {
      return "deleted";
    }
    Path file = Path.of(library);
    if (!Files.isRegularFile(file)) {
      return "none";
    }
    ByteBuffer header = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel channel = FileChannel.open(file)) {
      channel.read(header, 0);
    }
    int machine = header.getShort(18) & 0xffff;
    return machine == 183 ? "aarch64" : machine == 62 ? "x86-64" : Integer.toString(machine);
  }
}
