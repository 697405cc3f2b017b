package io.serval.server.protocol.v2.http;

import io.serval.core.InvalidInputException;
import org.jspecify.annotations.Nullable;

/**
 * Serval's HTTP request header that gives a request a deadline, in microseconds from its arrival: the HTTP
 * counterpart of gRPC's {@code grpc-timeout}, read by every HTTP prediction endpoint.
 */
public final class TimeoutHeader {
  /** The header's name. */
  public static final String NAME = "Serval-Timeout-Us";

  private TimeoutHeader() {}

  /**
   * The deadline the header's {@code value} sets, as a {@link System#nanoTime()} value, or 0 for none.
   *
   * @throws InvalidInputException for anything but a whole number of microseconds above 0
   */
  public static long deadline(@Nullable String value) {
    if (value == null) {
      return 0;
    }
    long micros;
    try {
      micros = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      micros = -1;
    }
    if (micros <= 0 || micros > Long.MAX_VALUE / 1000) {
      throw new InvalidInputException(NAME + " is '" + value + "' (expected: microseconds > 0)");
    }
    return System.nanoTime() + micros * 1000;
  }
}
