package io.serval.server;

import static io.serval.server.TestRepositories.INPUT;
import static io.serval.server.TestRepositories.MODEL;
import static io.serval.server.TestRepositories.OUTPUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.InferTensorContents;
import io.serval.protocol.v2.ModelConfigRequest;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import io.serval.protocol.v2.ModelMetadataRequest;
import io.serval.protocol.v2.ModelStreamInferResponse;
import io.serval.protocol.v2.ServerMetadataRequest;
import io.serval.protocol.v2.SystemSharedMemoryStatusRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inference.GRPCInferenceService} against a real server, through generated grpc-java stubs. */
class GrpcProtocolTest {
  @TempDir static Path repository;
  private static RunningServer server;
  private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @BeforeAll
  static void start() throws Exception {
    TestRepositories.copyBuiltIn(repository, MODEL);
    // No config.yaml: inputs, outputs and max_batch_size come from the model file (dims [3,-1,-1], batch 4).
    TestRepositories.onnxModel(repository, "autocompleted", null, 1);
    server = RunningServer.start(repository);
    stub = GrpcClients.builder(server.grpcUri())
        .maxRequestMessageLength(64 << 20)
        .maxResponseMessageLength(64 << 20)
        .build(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void infersRawContentsAndAnswersInRawOutputContents() {
    ModelInferResponse response = stub.modelInfer(goldenRequest().setId("r1").build());

    assertThat(response.getModelName()).isEqualTo(MODEL);
    assertThat(response.getModelVersion()).isEqualTo("1");
    assertThat(response.getId()).isEqualTo("r1");
    assertThat(response.getOutputs(0).getName()).isEqualTo(OUTPUT);
    assertThat(response.getOutputs(0).getShapeList()).containsExactly(2L, 2L);
    assertGolden(response.getRawOutputContents(0));
  }

  @Test
  void infersTypedContents() {
    InferTensorContents.Builder contents = InferTensorContents.newBuilder();
    for (float value : TestRepositories.goldenInput()) {
      contents.addFp32Contents(value);
    }
    ModelInferRequest request = ModelInferRequest.newBuilder()
        .setModelName(MODEL)
        .addInputs(input().setContents(contents))
        .build();

    assertGolden(stub.modelInfer(request).getRawOutputContents(0));
  }

  @Test
  void rejectsRawAndTypedContentsMixed() {
    ModelInferRequest request = goldenRequest()
        .setInputs(0, input().setContents(InferTensorContents.newBuilder().addFp32Contents(1f)))
        .build();

    assertStatus(request, Status.Code.INVALID_ARGUMENT,
        "input 'x' has typed contents while the request also has raw_input_contents");
  }

  @Test
  void rejectsUnknownModelAndNonNumericVersion() {
    assertStatus(goldenRequest().setModelName("nope").build(), Status.Code.NOT_FOUND, "unknown model 'nope'");
    assertStatus(goldenRequest().setModelVersion("v1").build(), Status.Code.INVALID_ARGUMENT,
        "version 'v1' is not a version number");
    assertStatus(goldenRequest().setModelVersion("2").build(), Status.Code.NOT_FOUND, "has no version 2");
  }

  @Test
  void acceptsMessagesLargerThanGrpcJavasDefaultLimit() {
    // 4 x 3 x 48 x 2000 floats = 4.6 MB, over grpc-java's 4 MiB default.
    long[] shape = {4, 3, 48, 2000};
    int count = 4 * 3 * 48 * 2000;
    ModelInferRequest request = ModelInferRequest.newBuilder()
        .setModelName("autocompleted")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
            .setName(INPUT).setDatatype("FP32")
            .addShape(shape[0]).addShape(shape[1]).addShape(shape[2]).addShape(shape[3]))
        .addRawInputContents(ByteString.copyFrom(new byte[count * 4]))
        .build();

    ModelInferResponse response = stub.modelInfer(request);

    assertThat(request.getSerializedSize()).isGreaterThan(4 << 20);
    assertThat(response.getOutputs(0).getShapeList()).containsExactly(4L, 2L);
  }

  @Test
  void autocompletesTheConfigurationOfAModelWithoutConfigYaml() {
    var config = stub.modelConfig(ModelConfigRequest.newBuilder().setName("autocompleted").build()).getConfig();

    assertThat(config.getMaxBatchSize()).isEqualTo(4);
    assertThat(config.getInput(0).getDimsList()).containsExactly(3L, -1L, -1L);
    assertThat(config.getOutput(0).getDimsList()).containsExactly(2L);
    assertThat(stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("autocompleted").build())
        .getInputs(0).getShapeList()).containsExactly(-1L, 3L, -1L, -1L);
  }

  @Test
  void answersUnsupportedMethodsWithUnimplemented() {
    assertThatThrownBy(() -> stub.systemSharedMemoryStatus(SystemSharedMemoryStatusRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
  }

  @Test
  void servesTheStandardHealthCheckAndServerMetadata() {
    HealthGrpc.HealthBlockingStub health = GrpcClients.newClient(server.grpcUri(), HealthGrpc.HealthBlockingStub.class);

    assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(stub.serverMetadata(ServerMetadataRequest.getDefaultInstance()).getExtensionsList())
        .contains("binary_tensor_data", "classification", "model_configuration", "statistics");
  }

  @Test
  void streamsOneAnswerPerRequestIncludingErrors() throws Exception {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceStub async =
        GrpcClients.builder(server.grpcUri()).build(GRPCInferenceServiceGrpc.GRPCInferenceServiceStub.class);
    List<ModelStreamInferResponse> answers = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<ModelInferRequest> requests = async.modelStreamInfer(new StreamObserver<>() {
      @Override
      public void onNext(ModelStreamInferResponse value) {
        answers.add(value);
      }

      @Override
      public void onError(Throwable t) {
        done.countDown();
      }

      @Override
      public void onCompleted() {
        done.countDown();
      }
    });
    requests.onNext(goldenRequest().setId("a").build());
    requests.onNext(goldenRequest().setModelName("nope").setId("b").build());
    requests.onNext(goldenRequest().setId("c").build());
    requests.onCompleted();

    assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    assertThat(answers).hasSize(3);
    assertThat(answers).filteredOn(a -> a.hasInferResponse()).extracting(a -> a.getInferResponse().getId())
        .containsExactlyInAnyOrder("a", "c");
    assertThat(answers).filteredOn(a -> !a.getErrorMessage().isEmpty()).extracting(ModelStreamInferResponse::getErrorMessage)
        .containsExactly("unknown model 'nope'");
  }

  private static ModelInferRequest.InferInputTensor.Builder input() {
    return ModelInferRequest.InferInputTensor.newBuilder()
        .setName(INPUT).setDatatype("FP32").addShape(2).addShape(3).addShape(48).addShape(192);
  }

  private static ModelInferRequest.Builder goldenRequest() {
    return ModelInferRequest.newBuilder()
        .setModelName(MODEL)
        .addInputs(input())
        .addRawInputContents(ByteString.copyFrom(TestRepositories.littleEndian(TestRepositories.goldenInput())));
  }

  private static void assertGolden(ByteString raw) {
    ByteBuffer floats = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    float[] expected = TestRepositories.goldenOutput();
    assertThat(raw.size()).isEqualTo(16);
    for (int i = 0; i < expected.length; i++) {
      assertThat(floats.getFloat(i * 4)).isCloseTo(expected[i], within(1e-5f));
    }
  }

  private static void assertStatus(ModelInferRequest request, Status.Code code, String message) {
    assertThatThrownBy(() -> stub.modelInfer(request))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(code);
          assertThat(e.getStatus().getDescription()).contains(message);
        });
  }
}
