package io.serval.client.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferTensor;
import io.serval.core.DataType;
import io.serval.protocol.v2.InferParameter;
import io.serval.protocol.v2.InferTensorContents;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link InferRequest} to {@code ModelInferRequest} and {@code ModelInferResponse} to {@link InferResult}: inputs
 * go in {@code raw_input_contents}, each the tensor's own buffer wrapped without a copy; outputs are read from
 * {@code raw_output_contents} in place, or from typed {@code contents} for a server that sends those.
 */
public final class GrpcInferCodec {
  private GrpcInferCodec() {}

  /** The gRPC message of {@code request}. */
  public static ModelInferRequest encode(InferRequest request) {
    ModelInferRequest.Builder message = ModelInferRequest.newBuilder()
        .setModelName(request.model())
        .setModelVersion(request.version())
        .setId(request.id());
    request.parameters().forEach((name, value) -> message.putParameters(name, parameter(value)));
    for (InferTensor input : request.inputs()) {
      ModelInferRequest.InferInputTensor.Builder tensor = message.addInputsBuilder()
          .setName(input.name())
          .setDatatype(input.dataType().wireName());
      for (long dim : input.shape()) {
        tensor.addShape(dim);
      }
      message.addRawInputContents(UnsafeByteOperations.unsafeWrap(input.data()));
    }
    request.outputs().forEach((name, classes) -> {
      ModelInferRequest.InferRequestedOutputTensor.Builder output = message.addOutputsBuilder().setName(name);
      if (classes > 0) {
        output.putParameters("classification", InferParameter.newBuilder().setInt64Param(classes).build());
      }
    });
    return message.build();
  }

  /** The result of {@code response}. */
  public static InferResult decode(ModelInferResponse response) {
    List<InferTensor> outputs = new ArrayList<>(response.getOutputsCount());
    for (int i = 0; i < response.getOutputsCount(); i++) {
      ModelInferResponse.InferOutputTensor output = response.getOutputs(i);
      DataType type = DataType.fromWireName(output.getDatatype());
      if (type == null) {
        throw new IllegalArgumentException("output '" + output.getName() + "' has datatype '" + output.getDatatype()
            + "' (expected: a v2 datatype)");
      }
      long[] shape = output.getShapeList().stream().mapToLong(Long::longValue).toArray();
      ByteBuffer data = i < response.getRawOutputContentsCount()
          ? response.getRawOutputContents(i).asReadOnlyByteBuffer()
          : fromContents(type, output.getContents());
      outputs.add(InferTensor.of(output.getName(), type, shape, data));
    }
    Map<String, Object> parameters = new LinkedHashMap<>();
    response.getParametersMap().forEach((name, value) -> parameters.put(name, value(value)));
    return InferResult.of(response.getModelName(), response.getModelVersion(), response.getId(), parameters, outputs);
  }

  private static InferParameter parameter(Object value) {
    InferParameter.Builder parameter = InferParameter.newBuilder();
    if (value instanceof Long number) {
      parameter.setInt64Param(number);
    } else if (value instanceof Double number) {
      parameter.setDoubleParam(number);
    } else if (value instanceof Boolean flag) {
      parameter.setBoolParam(flag);
    } else {
      parameter.setStringParam(value.toString());
    }
    return parameter.build();
  }

  private static Object value(InferParameter parameter) {
    return switch (parameter.getParameterChoiceCase()) {
      case BOOL_PARAM -> parameter.getBoolParam();
      case INT64_PARAM -> parameter.getInt64Param();
      case UINT64_PARAM -> parameter.getUint64Param();
      case DOUBLE_PARAM -> parameter.getDoubleParam();
      default -> parameter.getStringParam();
    };
  }

  /** The v2 binary layout of typed contents. */
  private static ByteBuffer fromContents(DataType type, InferTensorContents contents) {
    ByteBuffer buffer;
    switch (type) {
      case BOOL -> {
        buffer = allocate(contents.getBoolContentsCount());
        contents.getBoolContentsList().forEach(value -> buffer.put((byte) (value ? 1 : 0)));
      }
      case INT8, UINT8, INT16, UINT16, INT32 -> {
        List<Integer> values = type.name().startsWith("INT")
            ? contents.getIntContentsList() : contents.getUintContentsList();
        buffer = allocate(values.size() * type.byteSize());
        for (int value : values) {
          switch (type.byteSize()) {
            case 1 -> buffer.put((byte) value);
            case 2 -> buffer.putShort((short) value);
            default -> buffer.putInt(value);
          }
        }
      }
      case UINT32 -> {
        buffer = allocate(contents.getUintContentsCount() * 4);
        contents.getUintContentsList().forEach(buffer::putInt);
      }
      case INT64 -> {
        buffer = allocate(contents.getInt64ContentsCount() * 8);
        contents.getInt64ContentsList().forEach(buffer::putLong);
      }
      case UINT64 -> {
        buffer = allocate(contents.getUint64ContentsCount() * 8);
        contents.getUint64ContentsList().forEach(buffer::putLong);
      }
      case FP32 -> {
        buffer = allocate(contents.getFp32ContentsCount() * 4);
        contents.getFp32ContentsList().forEach(buffer::putFloat);
      }
      case FP64 -> {
        buffer = allocate(contents.getFp64ContentsCount() * 8);
        contents.getFp64ContentsList().forEach(buffer::putDouble);
      }
      case BYTES -> {
        int total = 0;
        for (ByteString element : contents.getBytesContentsList()) {
          total += 4 + element.size();
        }
        buffer = allocate(total);
        for (ByteString element : contents.getBytesContentsList()) {
          buffer.putInt(element.size());
          element.copyTo(buffer);
        }
      }
      default -> throw new IllegalArgumentException(type.wireName() + " outputs come only as raw contents");
    }
    return buffer.flip();
  }

  private static ByteBuffer allocate(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
