package io.serval.client.internal;

import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferStream;
import io.serval.client.ServalClientException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A stream for a transport without one (v2 over HTTP): each request is its own call, answered to the stream's
 * callbacks as it completes.
 */
final class PerCallStream implements InferStream {
  private final Function<InferRequest, CompletableFuture<InferResult>> infer;
  private final Consumer<InferResult> onResult;
  private final Consumer<ServalClientException> onError;
  /** Requests not yet answered, plus one while the stream is open. */
  private final AtomicInteger pending = new AtomicInteger(1);
  private final AtomicBoolean completing = new AtomicBoolean();
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  PerCallStream(Function<InferRequest, CompletableFuture<InferResult>> infer, Consumer<InferResult> onResult,
      Consumer<ServalClientException> onError) {
    this.infer = infer;
    this.onResult = onResult;
    this.onError = onError;
  }

  @Override
  public void send(InferRequest request) {
    pending.incrementAndGet();
    if (completing.get()) {
      finishOne();
      throw new IllegalStateException("the stream is complete (expected: send before complete() or close())");
    }
    infer.apply(request).whenComplete((result, failure) -> {
      if (failure == null) {
        onResult.accept(result);
      } else {
        onError.accept(Failures.of(failure));
      }
      finishOne();
    });
  }

  @Override
  public CompletableFuture<Void> complete() {
    if (completing.compareAndSet(false, true)) {
      finishOne();
    }
    return done;
  }

  @Override
  public void close() {
    Futures.await(complete());
  }

  private void finishOne() {
    if (pending.decrementAndGet() == 0) {
      done.complete(null);
    }
  }
}
