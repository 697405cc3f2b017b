package io.serval.server;

import static io.serval.server.TestRepositories.INPUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GracefulShutdownTest {
  @Test
  void stoppingServerReportsNotReadyAndFinishesTheRequestInFlight(@TempDir Path repository) throws Exception {
    TestRepositories.onnxModel(repository, "wide",
        "max_batch_size: 8\ninputs:\n  - {name: x, datatype: FP32, dims: [3, 48, -1]}\n", 1);
    RunningServer server = RunningServer.start(repository, "--limits.max_request_bytes=" + (256 << 20),
        "--shutdown_timeout_seconds=30");
    GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub stub = GrpcClients.builder(server.grpcUri())
        .maxRequestMessageLength(-1).maxResponseMessageLength(-1)
        .build(GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub.class);
    int rows = 8;
    int width = 16000;
    ListenableFuture<ModelInferResponse> inFlight = stub.modelInfer(ModelInferRequest.newBuilder()
        .setModelName("wide")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
            .setName(INPUT).setDatatype("FP32").addShape(rows).addShape(3).addShape(48).addShape(width))
        .addRawInputContents(ByteString.copyFrom(new byte[rows * 3 * 48 * width * 4]))
        .build());
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
        .until(() -> server.server.repository().resolve("wide", "").metrics().statistics().pending() == 1);

    CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::close);

    await().atMost(Duration.ofSeconds(5)).until(() -> !server.server.status().ready());
    assertThat(inFlight.get(30, TimeUnit.SECONDS).getOutputs(0).getShapeList()).containsExactly(8L, 2L);
    stopping.get(30, TimeUnit.SECONDS);
  }
}
