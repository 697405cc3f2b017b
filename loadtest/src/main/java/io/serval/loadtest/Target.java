package io.serval.loadtest;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One model on one server, over one protocol. A request is built once per sample ({@link #prepare}) so that the
 * load loop adds as little client work per request as it can.
 */
interface Target extends AutoCloseable {
  /** Connects to the server in {@code options} and reads the model's inputs from its metadata. */
  static Target connect(LoadOptions options) {
    return options.grpc() ? new GrpcTarget(options) : new HttpTarget(options);
  }

  /** A prepared request, sent as often as the run likes. */
  @FunctionalInterface
  interface Call {
    /**
     * Sends the request. The future completes normally when the server answered with a result, and exceptionally
     * with a {@link RequestFailure} otherwise.
     */
    CompletableFuture<Void> send();
  }

  /** The model's inputs, from its metadata. */
  List<Samples.InputSpec> inputs();

  /** The request for one sample. */
  Call prepare(List<InputTensor> sample);

  @Override
  void close();
}
