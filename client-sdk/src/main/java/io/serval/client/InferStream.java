package io.serval.client;

import java.util.concurrent.CompletableFuture;

/**
 * A stream of inference requests, answered as each completes (not necessarily in order: give requests an
 * {@link InferRequestBuilder#id id} to match answers). Opened by {@link ServalClient#openStream}; its answers and
 * per-request errors go to the callbacks given there.
 *
 * <p>Over gRPC it is one {@code ModelStreamInfer} call; the v2 stream reports a failed request by message only,
 * so such errors arrive as {@link ServerErrorException}s carrying the server's message. Over HTTP, which has no
 * v2 stream, each request is its own call, with the same retries and typed errors as {@link
 * ServalClient#inferAsync}.
 *
 * <pre>{@code
 * try (InferStream stream = client.openStream(results::add, errors::add)) {
 *   for (InferRequest request : requests) {
 *     stream.send(request);
 *   }
 * } // close() waits for every answer
 * }</pre>
 */
public interface InferStream extends AutoCloseable {
  /** Sends {@code request}; its answer or error goes to the stream's callbacks. */
  void send(InferRequest request);

  /**
   * Says no more requests follow; the future completes once every request has been answered, or fails with a
   * {@link ServalClientException} if the stream itself broke.
   */
  CompletableFuture<Void> complete();

  /** {@link #complete()} and waits for it, throwing its {@link ServalClientException} if the stream broke. */
  @Override
  void close();
}
