package io.serval.engine.tensorrt;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import io.serval.core.DataType;
import io.serval.core.InternalException;
import io.serval.core.InvalidInputException;
import io.serval.core.ModelSignature;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.ModelLoadException;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer.ExecutionContextAllocationStrategy;
import org.bytedeco.tensorrt.global.nvinfer.OptProfileSelector;
import org.bytedeco.tensorrt.global.nvinfer.TensorFormat;
import org.bytedeco.tensorrt.global.nvinfer.TensorIOMode;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.jspecify.annotations.Nullable;

/**
 * One execution context of a shared plan, with its own CUDA stream, its own activation memory, and for every input
 * and output a device buffer and a pinned host buffer sized for the profile's largest shapes, all allocated at load
 * and freed on close. A run copies the inputs into pinned memory and on to the device, enqueues the plan, and copies
 * the outputs back, all on the instance's stream.
 */
final class TensorRtInstance implements ModelInstance {
  private final SharedPlans.Handle plan;
  private final int device;
  private final String description;
  private final ModelSignature signature;
  private final Map<String, Binding> inputs = new LinkedHashMap<>();
  private final Map<String, Binding> outputs = new LinkedHashMap<>();
  private final List<Pointer> deviceMemory = new ArrayList<>();
  private final List<Pointer> hostMemory = new ArrayList<>();
  private @Nullable IExecutionContext context;
  private @Nullable CUstream_st stream;
  private boolean closed;

  private TensorRtInstance(SharedPlans.Handle plan, int device, String description, ModelSignature signature) {
    this.plan = plan;
    this.device = device;
    this.description = description;
    this.signature = signature;
  }

  /**
   * Opens an instance on {@code plan}; on failure everything allocated so far is freed and the plan released.
   *
   * @throws ModelLoadException when the plan has inputs or outputs this engine cannot bind
   */
  static TensorRtInstance open(SharedPlans.Handle plan, int device, String description) throws ModelLoadException {
    TensorRtInstance instance = new TensorRtInstance(plan, device, description, signatureOf(plan.engine(),
        description));
    try {
      instance.allocate();
      return instance;
    } catch (ModelLoadException | RuntimeException e) {
      instance.close();
      throw e;
    }
  }

  /** The plan's inputs and outputs, {@code -1} for dynamic dimensions. */
  static ModelSignature signatureOf(ICudaEngine engine, String description) throws ModelLoadException {
    List<TensorSpec> inputs = new ArrayList<>();
    List<TensorSpec> outputs = new ArrayList<>();
    for (int i = 0; i < engine.getNbIOTensors(); i++) {
      String name = engine.getIOTensorName(i);
      boolean input = engine.getTensorIOMode(name).intern() == TensorIOMode.kINPUT;
      String what = input ? "input" : "output";
      DataType type = TensorRtTypes.toDataType(engine.getTensorDataType(name));
      if (type == null) {
        throw new ModelLoadException(description + ": " + what + " '" + name + "' has TensorRT type "
            + engine.getTensorDataType(name) + ", which the v2 protocol cannot carry");
      }
      if (engine.isShapeInferenceIO(name)) {
        throw new ModelLoadException(description + ": " + what + " '" + name + "' is a shape tensor, which this"
            + " engine does not feed");
      }
      if (engine.getTensorFormat(name).intern() != TensorFormat.kLINEAR) {
        throw new ModelLoadException(description + ": " + what + " '" + name + "' has the vectorised format "
            + engine.getTensorFormatDesc(name) + " (expected: linear, row-major)");
      }
      TensorSpec spec = TensorSpec.of(name, type, PlanBuilder.shapeOf(engine.getTensorShape(name)));
      (input ? inputs : outputs).add(spec);
    }
    return ModelSignature.of(inputs, outputs);
  }

  private void allocate() throws ModelLoadException {
    ICudaEngine engine = plan.engine();
    Cuda.check(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    CUstream_st created = new CUstream_st();
    Cuda.check(cudaStreamCreateWithFlags(created, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    stream = created;
    // User-managed activation memory: allocated and freed here, so that closing an instance provably returns it.
    IExecutionContext execution = engine.createExecutionContext(ExecutionContextAllocationStrategy.kUSER_MANAGED);
    if (execution == null || execution.isNull()) {
      throw new ModelLoadException(description + ": TensorRT could not create an execution context"
          + TensorRtLogger.INSTANCE.suffix());
    }
    context = execution;
    long activations = engine.getDeviceMemorySizeV2();
    if (activations > 0) {
      execution.setDeviceMemoryV2(deviceBuffer(activations), activations);
    }
    for (TensorSpec spec : signature.inputs()) {
      long[] max = spec.shape();
      if (!Shapes.isConcrete(max)) {
        if (engine.getNbOptimizationProfiles() < 1) {
          throw new ModelLoadException(description + ": input '" + spec.name() + "' " + Shapes.format(max)
              + " is dynamic but the plan has no optimization profile");
        }
        long[] min = PlanBuilder.shapeOf(engine.getProfileShape(spec.name(), 0, OptProfileSelector.kMIN));
        max = PlanBuilder.shapeOf(engine.getProfileShape(spec.name(), 0, OptProfileSelector.kMAX));
        long[] opt = PlanBuilder.shapeOf(engine.getProfileShape(spec.name(), 0, OptProfileSelector.kOPT));
        inputs.put(spec.name(), bind(spec, max, ShapeRange.of(spec.name(), min, opt, max)));
        if (!execution.setInputShape(spec.name(), PlanBuilder.dims(max))) {
          throw new ModelLoadException(description + ": TensorRT refused input '" + spec.name() + "' at its profile's"
              + " largest shape " + Shapes.format(max) + TensorRtLogger.INSTANCE.suffix());
        }
      } else {
        inputs.put(spec.name(), bind(spec, max, ShapeRange.of(spec.name(), max, max, max)));
      }
    }
    // With every input at its largest shape, each output's shape is its largest too.
    for (TensorSpec spec : signature.outputs()) {
      long[] max = PlanBuilder.shapeOf(execution.getTensorShape(spec.name()));
      if (!Shapes.isConcrete(max)) {
        throw new ModelLoadException(description + ": output '" + spec.name() + "' has the data-dependent shape "
            + Shapes.format(max) + ", which this engine cannot size in advance");
      }
      outputs.put(spec.name(), bind(spec, max, ShapeRange.of(spec.name(), max, max, max)));
    }
  }

  private Binding bind(TensorSpec spec, long[] maxShape, ShapeRange range) throws ModelLoadException {
    long bytes = Math.multiplyExact(Shapes.elementCount(maxShape), (long) spec.dataType().byteSize());
    if (bytes > Integer.MAX_VALUE) {
      throw new ModelLoadException(description + ": '" + spec.name() + "' needs " + bytes + " bytes at its largest"
          + " shape " + Shapes.format(maxShape) + ", more than the 2 GiB one tensor may have");
    }
    long size = Math.max(bytes, 1);
    Pointer onDevice = deviceBuffer(size);
    Pointer pinned = new Pointer();
    Cuda.check(cudaMallocHost(pinned, size), "cudaMallocHost(" + size + ")");
    hostMemory.add(pinned);
    if (!context().setTensorAddress(spec.name(), onDevice)) {
      throw new ModelLoadException(description + ": TensorRT refused the address of '" + spec.name() + "'"
          + TensorRtLogger.INSTANCE.suffix());
    }
    ByteBuffer staging = new BytePointer(pinned).capacity(size).limit(size).asByteBuffer();
    return new Binding(spec.dataType(), range, onDevice, pinned, staging);
  }

  private Pointer deviceBuffer(long size) {
    Pointer buffer = new Pointer();
    Cuda.check(cudaMalloc(buffer, size), "cudaMalloc(" + size + ")");
    deviceMemory.add(buffer);
    return buffer;
  }

  private IExecutionContext context() {
    IExecutionContext current = context;
    if (current == null) {
      throw new IllegalStateException(description + " is closed");
    }
    return current;
  }

  private CUstream_st stream() {
    CUstream_st current = stream;
    if (current == null) {
      throw new IllegalStateException(description + " is closed");
    }
    return current;
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public RunResult run(List<Tensor> inputTensors, List<String> outputNames, RunContext runContext) {
    IExecutionContext execution = context();
    CUstream_st onStream = stream();
    long started = System.nanoTime();
    Cuda.check(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
    for (Tensor tensor : inputTensors) {
      Binding binding = inputs.get(tensor.name());
      if (binding == null) {
        throw new InvalidInputException(description + ": the model has no input '" + tensor.name() + "'");
      }
      long[] shape = tensor.shape();
      if (tensor.dataType() != binding.type || !binding.range.contains(shape)) {
        throw new InvalidInputException(description + ": input '" + tensor.name() + "' is "
            + tensor.dataType().wireName() + Shapes.format(shape) + " (expected: " + binding.type.wireName()
            + " within " + binding.range + ")");
      }
      ByteBuffer staging = binding.staging.duplicate();
      staging.clear();
      staging.put(tensor.data());
      Cuda.check(cudaMemcpyAsync(binding.device, binding.host, tensor.byteSize(), cudaMemcpyHostToDevice, onStream),
          "cudaMemcpyAsync(input '" + tensor.name() + "')");
      if (!execution.setInputShape(tensor.name(), PlanBuilder.dims(shape))) {
        throw new InvalidInputException(description + ": TensorRT refused input '" + tensor.name() + "' of shape "
            + Shapes.format(shape) + TensorRtLogger.INSTANCE.suffix());
      }
    }
    if (!execution.allInputDimensionsSpecified()) {
      throw new InvalidInputException(description + ": every input must be given (expected: " + inputs.keySet()
          + ")");
    }
    // The copies are asynchronous: their transfer time falls into the infer phase, which waits for the stream.
    long fed = System.nanoTime();
    if (!execution.enqueueV3(onStream)) {
      throw new InternalException(description + ": TensorRT could not enqueue the run"
          + TensorRtLogger.INSTANCE.suffix());
    }
    Cuda.check(cudaStreamSynchronize(onStream), "cudaStreamSynchronize");
    long ran = System.nanoTime();
    // TensorRT cannot stop a run it has enqueued; an abort that came in meanwhile is honoured here.
    if (runContext.isAborted()) {
      throw new InternalException(description + ": the run was stopped");
    }
    List<long[]> shapes = new ArrayList<>(outputNames.size());
    for (String name : outputNames) {
      Binding binding = output(name);
      long[] shape = PlanBuilder.shapeOf(execution.getTensorShape(name));
      shapes.add(shape);
      Cuda.check(cudaMemcpyAsync(binding.host, binding.device, bytes(binding, shape), cudaMemcpyDeviceToHost,
          onStream), "cudaMemcpyAsync(output '" + name + "')");
    }
    Cuda.check(cudaStreamSynchronize(onStream), "cudaStreamSynchronize");
    List<Tensor> results = new ArrayList<>(outputNames.size());
    for (int i = 0; i < outputNames.size(); i++) {
      String name = outputNames.get(i);
      Binding binding = output(name);
      long[] shape = shapes.get(i);
      ByteBuffer copy = runContext.allocate(bytes(binding, shape));
      ByteBuffer source = binding.staging.duplicate();
      source.clear().limit(copy.remaining());
      copy.put(source).flip();
      results.add(Tensor.of(name, binding.type, shape, copy));
    }
    return RunResult.of(results, fed - started, ran - fed, System.nanoTime() - ran);
  }

  private Binding output(String name) {
    Binding binding = outputs.get(name);
    if (binding == null) {
      throw new InternalException(description + ": the plan has no output '" + name + "'");
    }
    return binding;
  }

  private static long bytes(Binding binding, long[] shape) {
    return Shapes.elementCount(shape) * binding.type.byteSize();
  }

  /** Waits for the stream, then frees the context, the stream, every buffer, and lets go of the plan. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      cudaSetDevice(device);
      if (stream != null) {
        cudaStreamSynchronize(stream);
      }
      if (context != null) {
        context.close();
        context = null;
      }
      if (stream != null) {
        cudaStreamDestroy(stream);
        stream = null;
      }
      deviceMemory.forEach(buffer -> cudaFree(buffer));
      hostMemory.forEach(buffer -> cudaFreeHost(buffer));
      deviceMemory.clear();
      hostMemory.clear();
    } finally {
      plan.close();
    }
  }

  @Override
  public String toString() {
    return description;
  }

  /** One input or output: its type, its shape range, its device buffer and its pinned host buffer. */
  private static final class Binding {
    final DataType type;
    final ShapeRange range;
    final Pointer device;
    final Pointer host;
    final ByteBuffer staging;

    Binding(DataType type, ShapeRange range, Pointer device, Pointer host, ByteBuffer staging) {
      this.type = type;
      this.range = range;
      this.device = device;
      this.host = host;
      this.staging = staging;
    }
  }
}
