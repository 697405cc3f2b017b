package io.serval.server.protocol;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place an unexpected failure is reported: logged once with its stack trace and the request id, counted
 * ({@code serval_internal_errors_total}), and answered with a generic message that names only the request id, so
 * no class name, stack frame or engine detail reaches a client.
 */
public final class InternalErrors {
  private static final Logger log = LoggerFactory.getLogger(InternalErrors.class);
  private static final LongAdder COUNT = new LongAdder();

  private InternalErrors() {}

  /** Logs and counts {@code error}; returns the message the caller gets. */
  public static String report(String requestId, String where, Throwable error) {
    COUNT.increment();
    log.error("[{}] {}: internal error", requestId, where, error);
    return "internal error; the server log has the details under request id " + requestId;
  }

  /** Publishes the count as {@code serval_internal_errors_total}. */
  public static void bindTo(MeterRegistry registry) {
    FunctionCounter.builder("serval.internal.errors", COUNT, LongAdder::sum)
        .description("Unexpected failures answered 500 / INTERNAL")
        .register(registry);
  }
}
