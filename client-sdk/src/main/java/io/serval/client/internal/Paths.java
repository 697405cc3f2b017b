package io.serval.client.internal;

import java.nio.charset.StandardCharsets;

/** The v2 REST paths, with names percent-encoded as one path segment each. */
final class Paths {
  private Paths() {}

  /** {@code /v2/models/<model>[/versions/<version>]}. */
  static String model(String model, String version) {
    return "/v2/models/" + segment(model) + (version.isEmpty() ? "" : "/versions/" + segment(version));
  }

  /** {@code value} as one path segment: unreserved characters as they are, every other byte as {@code %XX}. */
  static String segment(String value) {
    StringBuilder out = new StringBuilder(value.length());
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xFF);
      if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
          || c == '~') {
        out.append(c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
    return out.toString();
  }
}
