package io.serval.loadtest;

import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.grpc.GrpcClientBuilder;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.auth.AuthToken;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import io.serval.protocol.v2.ModelMetadataRequest;
import io.serval.protocol.v2.ModelMetadataResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A model behind the v2 gRPC front end; tensors go in {@code raw_input_contents}, as Triton's clients send them. */
final class GrpcTarget implements Target {
  private final GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub;
  private final String model;
  private final String version;
  private final List<Samples.InputSpec> inputs;

  GrpcTarget(LoadOptions options) {
    String scheme = options.url().getScheme().equals("grpcs") ? "https" : "http";
    GrpcClientBuilder builder = GrpcClients.builder(scheme + "://" + options.url().getAuthority())
        .responseTimeout(options.timeout())
        .maxResponseLength(0)
        .maxResponseMessageLength(-1);
    if (options.token() != null) {
      builder.auth(AuthToken.ofOAuth2(options.token()));
    }
    stub = builder.build(GRPCInferenceServiceGrpc.GRPCInferenceServiceStub.class);
    model = options.model();
    version = options.modelVersion() == null ? "" : options.modelVersion();
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub blocking =
        builder.build(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
    ModelMetadataResponse metadata;
    try {
      metadata = blocking.modelMetadata(
          ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build());
    } catch (StatusRuntimeException e) {
      throw new IllegalStateException("the metadata of model " + model + " at " + options.url() + ": "
          + e.getStatus().getCode() + " " + e.getStatus().getDescription());
    }
    inputs = metadata.getInputsList().stream()
        .map(input -> new Samples.InputSpec(input.getName(), input.getDatatype(),
            input.getShapeList().stream().mapToLong(Long::longValue).toArray()))
        .toList();
  }

  @Override
  public List<Samples.InputSpec> inputs() {
    return inputs;
  }

  @Override
  public Call prepare(List<InputTensor> sample) {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version);
    for (InputTensor tensor : sample) {
      ModelInferRequest.InferInputTensor.Builder input = request.addInputsBuilder()
          .setName(tensor.name())
          .setDatatype(tensor.datatype());
      for (long dim : tensor.shape()) {
        input.addShape(dim);
      }
      request.addRawInputContents(ByteString.copyFrom(tensor.data()));
    }
    ModelInferRequest built = request.build();
    return () -> {
      CompletableFuture<Void> answered = new CompletableFuture<>();
      stub.modelInfer(built, new StreamObserver<>() {
        @Override
        public void onNext(ModelInferResponse response) {}

        @Override
        public void onError(Throwable error) {
          Status status = Status.fromThrowable(error);
          answered.completeExceptionally(status.getCode() == Status.Code.UNKNOWN && status.getCause() != null
              ? RequestFailure.of(status.getCause())
              : new RequestFailure("grpc " + status.getCode(), String.valueOf(status.getDescription())));
        }

        @Override
        public void onCompleted() {
          answered.complete(null);
        }
      });
      return answered;
    };
  }

  @Override
  public void close() {}
}
