package io.serval.client.internal;

import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferStream;
import io.serval.client.ServalClientException;
import io.serval.protocol.v2.ModelConfig;
import io.serval.protocol.v2.ModelMetadataResponse;
import io.serval.protocol.v2.ModelStatisticsResponse;
import io.serval.protocol.v2.RepositoryIndexResponse;
import io.serval.protocol.v2.ServerMetadataResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The v2 calls over one transport, each answered by a future that fails with a {@link ServalClientException}.
 * {@link HttpCalls} and {@link GrpcCalls} implement it; {@link io.serval.client.ServalClient} holds one.
 */
public interface ServerCalls extends AutoCloseable {
  CompletableFuture<Boolean> live();

  CompletableFuture<Boolean> ready();

  CompletableFuture<Boolean> modelReady(String model, String version);

  CompletableFuture<ServerMetadataResponse> serverMetadata();

  CompletableFuture<ModelMetadataResponse> modelMetadata(String model, String version);

  CompletableFuture<ModelConfig> modelConfig(String model, String version);

  /** Statistics of {@code model} (every model when empty) and {@code version}. */
  CompletableFuture<ModelStatisticsResponse> modelStatistics(String model, String version);

  CompletableFuture<InferResult> infer(InferRequest request);

  InferStream openStream(Consumer<InferResult> onResult, Consumer<ServalClientException> onError);

  CompletableFuture<List<RepositoryIndexResponse.ModelIndex>> repositoryIndex(boolean readyOnly);

  /** Loads {@code model}, on the management endpoint when there is one. */
  CompletableFuture<Void> loadModel(String model);

  /** Unloads {@code model}, on the management endpoint when there is one. */
  CompletableFuture<Void> unloadModel(String model);

  @Override
  void close();
}
