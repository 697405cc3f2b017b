package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.common.util.concurrent.ListenableFuture;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferResponse;
import io.serval.server.testengine.TestEngine;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GracefulShutdownTest {
  @Test
  void stoppingServerReportsNotReadyAndFinishesTheRequestInFlight(@TempDir Path repository) throws Exception {
    TestEngine.reset();
    TestEngine.model(repository, "held", "max_batch_size: 8\n");
    RunningServer server = RunningServer.start(repository, "--shutdown_timeout_seconds=30");
    GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub stub =
        GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub.class);
    ListenableFuture<ModelInferResponse> inFlight = stub.modelInfer(TestEngine.grpcRequest("held", TestEngine.BLOCK));
    assertThat(TestEngine.BLOCKED.tryAcquire(10, TimeUnit.SECONDS)).as("the request runs").isTrue();

    CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::close);

    await().atMost(Duration.ofSeconds(5)).until(() -> !server.server.status().ready());
    assertThat(inFlight.isDone()).as("the drain waits for the request").isFalse();
    TestEngine.openGate();
    assertThat(inFlight.get(10, TimeUnit.SECONDS).getRawOutputContents(0).asReadOnlyByteBuffer()
        .order(ByteOrder.LITTLE_ENDIAN).getFloat(0)).isEqualTo(-5f);
    stopping.get(30, TimeUnit.SECONDS);
  }
}
