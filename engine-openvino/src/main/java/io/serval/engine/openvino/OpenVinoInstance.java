package io.serval.engine.openvino;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import io.serval.core.DataType;
import io.serval.core.InternalException;
import io.serval.core.InvalidInputException;
import io.serval.core.ModelSignature;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import io.serval.engine.openvino.internal.OvApi;
import io.serval.engine.openvino.internal.OvShapeValue;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One compiled model and its one infer request. Inputs are bound without copying: each is wrapped in an OpenVINO
 * tensor over the input tensor's own off-heap buffer ({@code ov_tensor_create_from_host_ptr}), and every input is
 * set again on every run, so the infer request never reads a buffer an earlier run has freed. Outputs are copied once, from the request's
 * tensors into buffers of the run's memory scope.
 */
final class OpenVinoInstance implements ModelInstance {
  /** {@code ov_shape_t}: the rank, then a pointer to the dimensions. */
  private static final long SHAPE_BYTES = Long.BYTES + Native.POINTER_SIZE;

  private final OpenVinoRuntime runtime;
  private final OvApi api;
  private final Pointer compiledModel;
  private final Pointer request;
  private final ModelSignature signature;
  private final Map<String, Integer> inputIndexes = new HashMap<>();
  private final Map<String, Integer> outputIndexes = new HashMap<>();
  private final String description;
  /** Guards {@link #closed} and {@link #running}, so that an abort never cancels a freed request. */
  private final Object lock = new Object();
  private boolean closed;
  private boolean running;

  OpenVinoInstance(
      OpenVinoRuntime runtime, Pointer compiledModel, Pointer request, ModelSignature signature, String description) {
    this.runtime = runtime;
    this.api = runtime.api;
    this.compiledModel = compiledModel;
    this.request = request;
    this.signature = signature;
    this.description = description;
    List<TensorSpec> inputs = signature.inputs();
    for (int i = 0; i < inputs.size(); i++) {
      inputIndexes.put(inputs.get(i).name(), i);
    }
    List<TensorSpec> outputs = signature.outputs();
    for (int i = 0; i < outputs.size(); i++) {
      outputIndexes.put(outputs.get(i).name(), i);
    }
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public RunResult run(List<Tensor> inputs, List<String> outputNames, RunContext context) {
    synchronized (lock) {
      if (closed) {
        throw new InternalException(description + ": the openvino instance is closed");
      }
      running = true;
    }
    List<Pointer> bound = new ArrayList<>(inputs.size());
    try {
      context.onAbort(this::cancel);
      long started = System.nanoTime();
      bindInputs(inputs, bound);
      long fed = System.nanoTime();
      int status = context.isAborted() ? OvApi.INFER_CANCELLED : api.ov_infer_request_infer(request);
      if (status == OvApi.INFER_CANCELLED || context.isAborted()) {
        throw new InternalException(description + ": the run was stopped");
      }
      if (status != OvApi.OK) {
        throw new InternalException(description + ": openvino failed: " + runtime.describe(status));
      }
      long ran = System.nanoTime();
      List<Tensor> outputs = new ArrayList<>(outputNames.size());
      for (String name : outputNames) {
        outputs.add(output(name, context));
      }
      return RunResult.of(outputs, fed - started, ran - fed, System.nanoTime() - ran);
    } finally {
      context.onAbort(() -> {});
      synchronized (lock) {
        running = false;
      }
      bound.forEach(api::ov_tensor_free);
    }
  }

  private void bindInputs(List<Tensor> inputs, List<Pointer> bound) {
    if (inputs.size() != inputIndexes.size()) {
      throw new InvalidInputException(
          description + ": " + inputs.size() + " inputs for a model with " + inputIndexes.size()
              + " (expected: every one of " + signature.inputs() + ")");
    }
    for (Tensor input : inputs) {
      Integer index = inputIndexes.get(input.name());
      if (index == null) {
        throw new InvalidInputException(
            description + ": no input '" + input.name() + "' (expected: " + signature.inputs() + ")");
      }
      if (!input.dataType().isFixedSize()) {
        throw new InvalidInputException(
            description + ": input '" + input.name() + "' is BYTES, which the openvino engine cannot feed");
      }
      ByteBuffer data = input.data();
      Pointer host = data.hasRemaining() ? Native.getDirectBufferPointer(data) : runtime.emptyHostBuffer;
      PointerByReference tensor = new PointerByReference();
      int status =
          api.ov_tensor_create_from_host_ptr(
              ElementTypes.fromDataType(input.dataType()), new OvShapeValue(input.shape()), host, tensor);
      if (status != OvApi.OK) {
        throw new InternalException(
            description + ": openvino cannot wrap input '" + input.name() + "': " + runtime.describe(status));
      }
      bound.add(tensor.getValue());
      status = api.ov_infer_request_set_input_tensor_by_index(request, index, tensor.getValue());
      if (status != OvApi.OK) {
        throw new InvalidInputException(
            description + ": openvino rejected input '" + input.name() + "' " + input.dataType().wireName()
                + Shapes.format(input.shape()) + ": " + runtime.describe(status));
      }
    }
  }

  private Tensor output(String name, RunContext context) {
    Integer index = outputIndexes.get(name);
    if (index == null) {
      throw new InternalException(description + ": no output '" + name + "'");
    }
    PointerByReference tensorRef = new PointerByReference();
    check(api.ov_infer_request_get_output_tensor_by_index(request, index, tensorRef), "get output '" + name + "'");
    Pointer tensor = tensorRef.getValue();
    try {
      IntByReference typeRef = new IntByReference();
      check(api.ov_tensor_get_element_type(tensor, typeRef), "read the type of output '" + name + "'");
      DataType type = ElementTypes.toDataType(typeRef.getValue());
      if (type == null) {
        throw new InternalException(
            description + ": output '" + name + "' is " + ElementTypes.name(typeRef.getValue()));
      }
      long[] shape = shape(tensor, name);
      LongByReference bytes = new LongByReference();
      check(api.ov_tensor_get_byte_size(tensor, bytes), "read the size of output '" + name + "'");
      ByteBuffer copy = context.allocate(bytes.getValue());
      if (bytes.getValue() > 0) {
        PointerByReference data = new PointerByReference();
        check(api.ov_tensor_data(tensor, data), "read output '" + name + "'");
        copy.put(data.getValue().getByteBuffer(0, bytes.getValue())).flip();
      }
      return Tensor.of(name, type, shape, copy);
    } finally {
      api.ov_tensor_free(tensor);
    }
  }

  private long[] shape(Pointer tensor, String name) {
    Memory shape = new Memory(SHAPE_BYTES);
    check(api.ov_tensor_get_shape(tensor, shape), "read the shape of output '" + name + "'");
    try {
      int rank = (int) shape.getLong(0);
      return rank == 0 ? new long[0] : shape.getPointer(Long.BYTES).getLongArray(0, rank);
    } finally {
      api.ov_shape_free(shape);
    }
  }

  private void check(int status, String action) {
    if (status != OvApi.OK) {
      throw new InternalException(description + ": openvino cannot " + action + ": " + runtime.describe(status));
    }
  }

  private void cancel() {
    synchronized (lock) {
      if (running && !closed) {
        api.ov_infer_request_cancel(request);
      }
    }
  }

  /** A property of the compiled model as OpenVINO reports it ({@code INFERENCE_NUM_THREADS}: {@code "2"}). */
  String compiledProperty(String key) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException(description + ": the openvino instance is closed");
      }
      PointerByReference value = new PointerByReference();
      check(api.ov_compiled_model_get_property(compiledModel, key, value), "read property " + key);
      return runtime.takeString(value.getValue());
    }
  }

  /** Frees the infer request and the compiled model; later calls do nothing. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      api.ov_infer_request_free(request);
      api.ov_compiled_model_free(compiledModel);
    }
  }

  @Override
  public String toString() {
    return description;
  }
}
