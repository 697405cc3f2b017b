package io.serval.engine.tensorrt;

import static org.bytedeco.cuda.global.cudart.cudaSetDevice;

import io.serval.engine.ModelLoadException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IRuntime;
import org.jspecify.annotations.Nullable;

/**
 * Deserialized plans, shared by the instances of one model version on one GPU: the weights are on the device once,
 * and each instance adds only its execution context, stream and buffers. The last instance to let go of a plan
 * releases it.
 */
final class SharedPlans {
  /** Reads the serialized plan when no instance holds it yet. */
  interface Source {
    ByteBuffer read() throws ModelLoadException;
  }

  private final Map<String, Entry> entries = new HashMap<>();

  /**
   * The plan known as {@code key} on {@code device}, deserialized from {@code source} if no instance holds it. Loads
   * of one plan wait for each other, loads of different plans do not: reading a plan may mean building it, for
   * minutes.
   *
   * @throws ModelLoadException when TensorRT cannot deserialize it (built by another version, for another GPU)
   */
  Handle acquire(String key, int device, Source source) throws ModelLoadException {
    Entry entry;
    synchronized (this) {
      entry = entries.computeIfAbsent(device + ":" + key, Entry::new);
      entry.references++;
    }
    try {
      synchronized (entry) {
        if (entry.engine == null) {
          deserialize(entry, key, device, source.read());
        }
      }
    } catch (ModelLoadException | RuntimeException e) {
      release(entry);
      throw e;
    }
    return new Handle(entry);
  }

  private static void deserialize(Entry entry, String key, int device, ByteBuffer plan) throws ModelLoadException {
    Cuda.check(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    IRuntime runtime = nvinfer.createInferRuntime(TensorRtLogger.INSTANCE);
    if (runtime == null || runtime.isNull()) {
      throw new ModelLoadException("TensorRT could not create a runtime" + TensorRtLogger.INSTANCE.suffix());
    }
    ICudaEngine engine = runtime.deserializeCudaEngine(new BytePointer(plan), plan.remaining());
    if (engine == null || engine.isNull()) {
      runtime.close();
      throw new ModelLoadException("TensorRT " + TensorRtProbe.result().tensorRtVersion() + " cannot deserialize"
          + " the plan " + key + " on gpu:" + device + "; a plan only runs on the TensorRT version and GPU model it"
          + " was built with" + TensorRtLogger.INSTANCE.suffix());
    }
    entry.runtime = runtime;
    entry.engine = engine;
  }

  private synchronized void release(Entry entry) {
    if (--entry.references == 0) {
      entries.remove(entry.id);
      // The runtime must outlive the engines it deserialized.
      if (entry.engine != null) {
        entry.engine.close();
      }
      if (entry.runtime != null) {
        entry.runtime.close();
      }
    }
  }

  /** A plan on one GPU; its fields are set under the entry's lock and read only by holders of a reference. */
  private static final class Entry {
    final String id;
    @Nullable IRuntime runtime;
    @Nullable ICudaEngine engine;
    int references;

    Entry(String id) {
      this.id = id;
    }
  }

  /** One instance's hold on a plan; closing it lets go. */
  final class Handle implements AutoCloseable {
    private final Entry entry;
    private boolean closed;

    private Handle(Entry entry) {
      this.entry = entry;
    }

    ICudaEngine engine() {
      return Objects.requireNonNull(entry.engine, "engine");
    }

    @Override
    public void close() {
      synchronized (SharedPlans.this) {
        if (closed) {
          return;
        }
        closed = true;
      }
      release(entry);
    }
  }
}
