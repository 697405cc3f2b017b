package io.serval.server.protocol.v2.grpc;

import com.google.protobuf.ByteString;
import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.InvalidInputException;
import io.serval.core.MemoryScope;
import io.serval.core.RequestedOutput;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.UnsupportedFeatureException;
import io.serval.protocol.v2.InferParameter;
import io.serval.protocol.v2.InferTensorContents;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** Converts gRPC infer messages to and from Serval's protocol-neutral requests and results. */
final class GrpcInferCodec {
  private GrpcInferCodec() {}

  /** Decodes a request, copying its tensors into {@code memory}. */
  static InferenceRequest decode(ModelInferRequest request, long deadlineNanos, MemoryScope memory) {
    Map<String, Object> parameters = parameters(request.getParametersMap(), "the request");
    int raw = request.getRawInputContentsCount();
    if (raw > 0 && raw != request.getInputsCount()) {
      throw new InvalidInputException("the request has " + raw + " raw_input_contents for " + request.getInputsCount()
          + " inputs (expected: one per input, in the order of the inputs)");
    }
    List<Tensor> inputs = new ArrayList<>(request.getInputsCount());
    for (int i = 0; i < request.getInputsCount(); i++) {
      ModelInferRequest.InferInputTensor input = request.getInputs(i);
      String name = input.getName();
      DataType type = DataType.fromWireName(input.getDatatype());
      if (type == null) {
        throw new InvalidInputException("input '" + name + "' has datatype '" + input.getDatatype()
            + "' (expected: one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64,"
            + " BF16, BYTES)");
      }
      Map<String, Object> inputParameters = parameters(input.getParametersMap(), "input '" + name + "'");
      InferenceRequest.rejectSharedMemory(inputParameters, "input '" + name + "'");
      long[] shape = shape(name, input.getShapeList());
      boolean typed = input.hasContents() && !isEmpty(input.getContents());
      if (raw > 0) {
        if (typed) {
          throw new InvalidInputException("input '" + name + "' has typed contents while the request also has"
              + " raw_input_contents (expected: all inputs in raw_input_contents, or all in contents)");
        }
        ByteString bytes = request.getRawInputContents(i);
        ByteBuffer buffer = memory.allocate(bytes.size());
        bytes.copyTo(buffer);
        buffer.flip();
        inputs.add(Tensor.of(name, type, shape, buffer));
      } else {
        inputs.add(TypedContents.toTensor(name, type, shape, input.getContents(), memory));
      }
    }
    List<RequestedOutput> outputs = null;
    if (request.getOutputsCount() > 0) {
      outputs = new ArrayList<>();
      for (ModelInferRequest.InferRequestedOutputTensor output : request.getOutputsList()) {
        outputs.add(RequestedOutput.of(output.getName(),
            parameters(output.getParametersMap(), "output '" + output.getName() + "'"), true));
      }
    }
    InferenceRequest.rejectSharedMemory(parameters, "the request");
    return new InferenceRequest(request.getId(), parameters, inputs, outputs, true, deadlineNanos, memory);
  }

  /**
   * The deadline of the current call from its {@code grpc-timeout} header ({@code <digits><unit>}, unit one of
   * H, M, S, m, u, n), as a {@link System#nanoTime()} value; 0 for none.
   */
  static long deadline(@Nullable String grpcTimeout) {
    if (grpcTimeout == null || grpcTimeout.length() < 2) {
      return 0;
    }
    long amount;
    try {
      amount = Long.parseLong(grpcTimeout.substring(0, grpcTimeout.length() - 1));
    } catch (NumberFormatException e) {
      return 0;
    }
    TimeUnit unit;
    switch (grpcTimeout.charAt(grpcTimeout.length() - 1)) {
      case 'H':
        unit = TimeUnit.HOURS;
        break;
      case 'M':
        unit = TimeUnit.MINUTES;
        break;
      case 'S':
        unit = TimeUnit.SECONDS;
        break;
      case 'm':
        unit = TimeUnit.MILLISECONDS;
        break;
      case 'u':
        unit = TimeUnit.MICROSECONDS;
        break;
      case 'n':
        unit = TimeUnit.NANOSECONDS;
        break;
      default:
        return 0;
    }
    return System.nanoTime() + unit.toNanos(amount);
  }

  private static boolean isEmpty(InferTensorContents contents) {
    return contents.getSerializedSize() == 0;
  }

  private static long[] shape(String name, List<Long> dims) {
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.get(i);
      if (shape[i] < 0) {
        throw new InvalidInputException("input '" + name + "' has shape " + dims + ": dimension " + i + " is "
            + shape[i] + " (expected: >= 0)");
      }
    }
    try {
      Shapes.elementCount(shape);
    } catch (ArithmeticException e) {
      throw new InvalidInputException("input '" + name + "' has shape " + dims + ", whose element count overflows");
    }
    return shape;
  }

  private static Map<String, Object> parameters(Map<String, InferParameter> parameters, String what) {
    Map<String, Object> values = new LinkedHashMap<>();
    parameters.forEach((key, value) -> {
      switch (value.getParameterChoiceCase()) {
        case BOOL_PARAM:
          values.put(key, value.getBoolParam());
          break;
        case INT64_PARAM:
          values.put(key, value.getInt64Param());
          break;
        case UINT64_PARAM:
          values.put(key, value.getUint64Param());
          break;
        case DOUBLE_PARAM:
          values.put(key, value.getDoubleParam());
          break;
        case STRING_PARAM:
          values.put(key, value.getStringParam());
          break;
        default:
          throw new InvalidInputException(what + ": parameter '" + key + "' has no value");
      }
    });
    return values;
  }

  static ModelInferResponse encode(InferenceResult result) {
    ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
        .setModelName(result.modelName())
        .setModelVersion(result.modelVersion())
        .setId(result.id());
    for (Tensor tensor : result.outputs()) {
      ModelInferResponse.InferOutputTensor.Builder output = ModelInferResponse.InferOutputTensor.newBuilder()
          .setName(tensor.name())
          .setDatatype(tensor.dataType().wireName());
      for (long dim : tensor.shape()) {
        output.addShape(dim);
      }
      response.addOutputs(output);
      response.addRawOutputContents(ByteString.copyFrom(tensor.data()));
    }
    result.parameters().forEach((key, value) -> response.putParameters(key, parameter(value)));
    return response.build();
  }

  private static InferParameter parameter(Object value) {
    InferParameter.Builder parameter = InferParameter.newBuilder();
    if (value instanceof Boolean flag) {
      return parameter.setBoolParam(flag).build();
    }
    if (value instanceof Long number) {
      return parameter.setInt64Param(number).build();
    }
    if (value instanceof Double number) {
      return parameter.setDoubleParam(number).build();
    }
    return parameter.setStringParam(value.toString()).build();
  }
}
