package io.serval.client;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import io.serval.client.internal.ClientSettings;
import io.serval.client.internal.Futures;
import io.serval.client.internal.GrpcCalls;
import io.serval.client.internal.HttpCalls;
import io.serval.client.internal.ManagementCalls;
import io.serval.client.internal.ServerCalls;
import io.serval.protocol.v2.ModelConfig;
import io.serval.protocol.v2.ModelMetadataResponse;
import io.serval.protocol.v2.ModelStatisticsResponse;
import io.serval.protocol.v2.RepositoryIndexResponse;
import io.serval.protocol.v2.ServerMetadataResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A client of Serval or any KServe v2 / Triton server, over HTTP or gRPC, on one or several servers. Thread-safe;
 * make one per application and {@link #close()} it at the end.
 *
 * <p>Every call throws (or, async, fails with) a {@link ServalClientException} whose subclass names the failure.
 * The v2 calls work against any v2 server; those marked "Serval only" use Serval's extensions (version labels,
 * A/B route weights) and answer {@link NotFoundException} or {@link UnsupportedCallException} elsewhere.
 *
 * <pre>{@code
 * try (ServalClient client = ServalClient.builder()
 *     .transport(Transport.GRPC)
 *     .endpoint("localhost:8001")
 *     .bearerToken(System.getenv("SERVAL_TOKEN"))
 *     .build()) {
 *   InferResult result = client.infer(InferRequest.builder("digits")
 *       .input(InferTensor.ofFloats("x", new long[] {1, 1, 28, 28}, pixels))
 *       .build());
 *   float[] probabilities = result.output("probabilities").toFloatArray();
 * }
 * }</pre>
 */
public final class ServalClient implements AutoCloseable {
  private final Transport transport;
  private final ClientSettings settings;
  private final ServerCalls calls;
  private final ManagementCalls management;

  ServalClient(Transport transport, ClientSettings settings) {
    this.transport = transport;
    this.settings = settings;
    this.calls = transport == Transport.GRPC ? new GrpcCalls(settings) : new HttpCalls(settings);
    this.management = new ManagementCalls(settings);
  }

  /** A builder of a client. */
  public static ServalClientBuilder builder() {
    return new ServalClientBuilder();
  }

  /** The transport the v2 calls use. */
  public Transport transport() {
    return transport;
  }

  /** Whether the server is live. */
  public boolean isLive() {
    return Futures.await(calls.live());
  }

  /** Whether the server is ready for inference. */
  public boolean isReady() {
    return Futures.await(calls.ready());
  }

  /** Whether {@code model}'s default version is ready; {@code false} for an unknown model. */
  public boolean isModelReady(String model) {
    return isModelReady(model, "");
  }

  /** Whether version {@code version} of {@code model} is ready. */
  public boolean isModelReady(String model, String version) {
    return Futures.await(calls.modelReady(model, version));
  }

  /** The server's name, version and protocol extensions. */
  public ServerMetadataResponse serverMetadata() {
    return Futures.await(calls.serverMetadata());
  }

  /** {@code model}'s inputs, outputs, versions and platform. */
  public ModelMetadataResponse modelMetadata(String model) {
    return modelMetadata(model, "");
  }

  /** The metadata of version {@code version} of {@code model}. */
  public ModelMetadataResponse modelMetadata(String model, String version) {
    return Futures.await(calls.modelMetadata(model, version));
  }

  /** {@code model}'s Triton-style configuration. */
  public ModelConfig modelConfig(String model) {
    return modelConfig(model, "");
  }

  /** The configuration of version {@code version} of {@code model}. */
  public ModelConfig modelConfig(String model, String version) {
    return Futures.await(calls.modelConfig(model, version));
  }

  /** The statistics of every model. */
  public ModelStatisticsResponse modelStatistics() {
    return modelStatistics("", "");
  }

  /** The statistics of {@code model}'s versions. */
  public ModelStatisticsResponse modelStatistics(String model) {
    return modelStatistics(model, "");
  }

  /** The statistics of version {@code version} of {@code model}. */
  public ModelStatisticsResponse modelStatistics(String model, String version) {
    return Futures.await(calls.modelStatistics(model, version));
  }

  /** Runs {@code request} and waits for its answer. */
  public InferResult infer(InferRequest request) {
    return Futures.await(calls.infer(request));
  }

  /** Runs {@code request}; the future fails with a {@link ServalClientException}. */
  public CompletableFuture<InferResult> inferAsync(InferRequest request) {
    return calls.infer(request);
  }

  /**
   * Opens a stream of inference requests: each answer goes to {@code onResult}, each failed request's error to
   * {@code onError}, on the client's threads.
   */
  public InferStream openStream(Consumer<InferResult> onResult, Consumer<ServalClientException> onError) {
    return calls.openStream(onResult, onError);
  }

  /** Every model and version of the repository, with its state and, when it failed, the reason. */
  public List<RepositoryIndexResponse.ModelIndex> repositoryIndex() {
    return repositoryIndex(false);
  }

  /** The repository index; only ready models when {@code readyOnly}. */
  public List<RepositoryIndexResponse.ModelIndex> repositoryIndex(boolean readyOnly) {
    return Futures.await(calls.repositoryIndex(readyOnly));
  }

  /**
   * Loads (or reloads) {@code model} and returns once it serves. Serval serves this on its management listener
   * ({@link ServalClientBuilder#managementEndpoint}) with a {@code manage} token, in {@code explicit} model
   * control mode.
   */
  public void loadModel(String model) {
    Futures.await(calls.loadModel(model));
  }

  /** Unloads {@code model}; requests under way finish. Served where {@link #loadModel} is. */
  public void unloadModel(String model) {
    Futures.await(calls.unloadModel(model));
  }

  /** Serval only: {@code model}'s version labels and default version. */
  public VersionLabels versionLabels(String model) {
    return Futures.await(management.labels(model));
  }

  /** Serval only: points {@code label} of {@code model} at {@code version}, until the server stops. */
  public VersionLabels setVersionLabel(String model, String label, long version) {
    return Futures.await(management.setLabel(model, label, version));
  }

  /** Serval only: removes {@code label} of {@code model}. */
  public VersionLabels removeVersionLabel(String model, String label) {
    return Futures.await(management.removeLabel(model, label));
  }

  /** Serval only: where requests to {@code model} without a version go (a number or a label). */
  public VersionLabels setDefaultVersion(String model, String version) {
    return Futures.await(management.setDefaultVersion(model, version));
  }

  /** Serval only: the weights of A/B route {@code route}'s variants. */
  public Map<String, Integer> routeWeights(String route) {
    return Futures.await(management.routeWeights(route));
  }

  /**
   * Serval only: sets the weights of every variant of A/B route {@code route} (0 to 1,000,000, not all 0), until
   * the server stops; returns the weights in force.
   */
  public Map<String, Integer> setRouteWeights(String route, Map<String, Integer> weights) {
    return Futures.await(management.setRouteWeights(route, weights));
  }

  /** Releases the connections, the health checkers and the event loops of this client. */
  @Override
  public void close() {
    calls.close();
    EndpointGroup management = settings.management();
    if (management != null) {
      management.close();
    }
    settings.endpoints().close();
    ClientFactory factory = settings.factory();
    factory.close();
  }
}
