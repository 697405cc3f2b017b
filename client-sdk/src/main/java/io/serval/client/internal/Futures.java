package io.serval.client.internal;

import io.serval.client.ServalClientException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/** Futures whose failures are {@link ServalClientException}s, and the blocking wait that throws them as they are. */
public final class Futures {
  private Futures() {}

  /** {@code future} with its failure, whatever it is, turned into the typed error by {@link Failures}. */
  public static <T> CompletableFuture<T> typed(CompletableFuture<T> future) {
    CompletableFuture<T> typed = new CompletableFuture<>();
    future.whenComplete((value, failure) -> {
      if (failure == null) {
        typed.complete(value);
      } else {
        typed.completeExceptionally(Failures.of(failure));
      }
    });
    return typed;
  }

  /** {@code future} mapped by {@code decode}, whose exceptions become typed errors too. */
  public static <T, R> CompletableFuture<R> typed(CompletableFuture<T> future, Function<? super T, ? extends R> decode) {
    return typed(future.thenApply(decode));
  }

  /** Waits for {@code future}, throwing its {@link ServalClientException} when it failed. */
  public static <T> T await(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (CompletionException e) {
      throw Failures.of(e);
    }
  }
}
