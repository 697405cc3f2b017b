package io.serval.engine.onnxruntime;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.serval.core.DataType;
import io.serval.core.InternalException;
import io.serval.core.InvalidInputException;
import io.serval.core.ModelSignature;
import io.serval.core.Tensor;
import io.serval.engine.ModelInstance;
import io.serval.engine.RunContext;
import io.serval.engine.RunResult;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** One ONNX Runtime session. */
final class OnnxRuntimeInstance implements ModelInstance {
  private final OrtEnvironment environment;
  private final OrtSession session;
  private final ModelSignature signature;
  private final String description;

  OnnxRuntimeInstance(OrtEnvironment environment, OrtSession session, ModelSignature signature, String description) {
    this.environment = environment;
    this.session = session;
    this.signature = signature;
    this.description = description;
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  @Override
  public RunResult run(List<Tensor> inputs, List<String> outputNames, RunContext context) {
    Map<String, OnnxTensor> feeds = new LinkedHashMap<>();
    try (OrtSession.RunOptions options = new OrtSession.RunOptions()) {
      context.onAbort(() -> terminate(options));
      long started = System.nanoTime();
      for (Tensor input : inputs) {
        feeds.put(input.name(), toOnnx(input));
      }
      long fed = System.nanoTime();
      try (OrtSession.Result result = session.run(feeds, new LinkedHashSet<>(outputNames), options)) {
        long ran = System.nanoTime();
        List<Tensor> outputs = new ArrayList<>(outputNames.size());
        for (String name : outputNames) {
          OnnxValue value =
              result.get(name).orElseThrow(() -> new InternalException(description + ": no output '" + name + "'"));
          outputs.add(fromOnnx(name, (OnnxTensor) value, context));
        }
        return RunResult.of(outputs, fed - started, ran - fed, System.nanoTime() - ran);
      }
    } catch (OrtException e) {
      if (context.isAborted()) {
        throw new InternalException(description + ": the run was stopped: " + e.getMessage(), e);
      }
      if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
        // The inputs passed validation against the signature but not the model's own checks (a zero-sized image
        // the convolutions cannot take): the caller's error, said in the engine's words.
        throw new InvalidInputException(description + ": onnxruntime rejected the inputs: " + e.getMessage());
      }
      throw new InternalException(description + ": onnxruntime failed: " + e.getMessage(), e);
    } finally {
      context.onAbort(() -> {});
      feeds.values().forEach(OnnxTensor::close);
    }
  }

  private void terminate(OrtSession.RunOptions options) {
    try {
      options.setTerminate(true);
    } catch (OrtException e) {
      throw new InternalException(description + ": onnxruntime could not stop the run: " + e.getMessage(), e);
    }
  }

  private OnnxTensor toOnnx(Tensor tensor) throws OrtException {
    if (tensor.dataType() == DataType.BYTES) {
      List<byte[]> elements = tensor.bytesElements();
      String[] strings = new String[elements.size()];
      for (int i = 0; i < strings.length; i++) {
        strings[i] = new String(elements.get(i), StandardCharsets.UTF_8);
      }
      return OnnxTensor.createTensor(environment, strings, tensor.shape());
    }
    OnnxJavaType type = Objects.requireNonNull(OnnxTypes.bufferType(tensor.dataType()), tensor.dataType()::name);
    return OnnxTensor.createTensor(environment, tensor.data(), tensor.shape(), type);
  }

  private static Tensor fromOnnx(String name, OnnxTensor value, RunContext context) throws OrtException {
    TensorInfo info = value.getInfo();
    DataType type = Objects.requireNonNull(OnnxTypes.toDataType(info.onnxType), info.onnxType::name);
    long[] shape = info.getShape();
    if (type == DataType.BYTES) {
      List<String> strings = new ArrayList<>();
      flatten(value.getValue(), strings);
      return Tensor.ofStrings(name, shape, strings);
    }
    ByteBuffer source = NativeOutputs.view(value);
    ByteBuffer copy = context.allocate(source.remaining());
    copy.put(source).flip();
    return Tensor.of(name, type, shape, copy);
  }

  private static void flatten(Object value, List<String> into) {
    if (value instanceof String) {
      into.add((String) value);
    } else {
      for (int i = 0; i < Array.getLength(value); i++) {
        flatten(Array.get(value, i), into);
      }
    }
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new InternalException(description + ": onnxruntime failed to close the session: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return description;
  }
}
