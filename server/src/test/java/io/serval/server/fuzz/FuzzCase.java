package io.serval.server.fuzz;

import io.serval.protocol.v2.ModelInferRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One generated request: an HTTP request (the v2 REST endpoints, or a hand-framed gRPC call posted as plain HTTP)
 * or a {@link ModelInferRequest} for the generated gRPC stub. It is a pure function of the generator's seed and
 * the case index, so {@link #replay()} names everything needed to send it again.
 */
final class FuzzCase {
  /** How a case travels. */
  enum Channel {
    /** A v2 HTTP request to the HTTP port. */
    HTTP,
    /** A message sent with the generated gRPC stub. */
    GRPC_STUB,
    /** Bytes posted to the gRPC port as a gRPC frame or an unframed protobuf/JSON body. */
    GRPC_RAW
  }

  /** What the request may get. */
  enum Expect {
    /** A success or a client error: the mutation may have left the request valid. */
    ANY,
    /** A client error: the request is malformed whatever the mutation did, so a 200 is a wrong status. */
    REJECT
  }

  final long seed;
  final int index;
  final Channel channel;
  /** The family and mutation, e.g. {@code json/truncate}; counts are kept by it. */
  final String category;
  final Expect expect;
  /** Whether the request set a deadline short enough that DEADLINE_EXCEEDED (HTTP 504) is a right answer. */
  final boolean shortDeadline;
  /** Whether the request carries a header larger than the server's header limit (431 or a reset is right). */
  final boolean oversizedHeaders;
  /**
   * Whether the request breaks HTTP/2 itself (headers over the limit, a TE header other than "trailers"), so that
   * the server may reset the stream or the connection instead of answering. Such cases travel on connections of
   * their own, so that a reset cannot take other cases down with it.
   */
  final boolean mayReset;

  // HTTP and GRPC_RAW
  final String method;
  final String path;
  final List<Map.Entry<String, String>> headers;
  final byte[] body;
  /** Whether to send over HTTP/1.1 instead of HTTP/2. */
  final boolean http1;
  /** For GRPC_RAW: whether the body is framed (application/grpc...) rather than an unframed request. */
  final boolean framed;

  // GRPC_STUB
  final @Nullable ModelInferRequest message;
  /** For GRPC_STUB: the call's deadline in microseconds, 0 for the client's default. */
  final long deadlineMicros;

  private FuzzCase(Builder b) {
    this.seed = b.seed;
    this.index = b.index;
    this.channel = b.channel;
    this.category = b.category;
    this.expect = b.expect;
    this.shortDeadline = b.shortDeadline;
    this.oversizedHeaders = b.oversizedHeaders;
    this.mayReset = b.mayReset || b.oversizedHeaders;
    this.method = b.method;
    this.path = b.path;
    this.headers = Collections.unmodifiableList(new ArrayList<>(b.headers));
    this.body = b.body;
    this.http1 = b.http1;
    this.framed = b.framed;
    this.message = b.message;
    this.deadlineMicros = b.deadlineMicros;
  }

  static Builder builder(long seed, int index, Channel channel, String category) {
    return new Builder(seed, index, channel, category);
  }

  /** Everything a request carries that a server message could echo back, to tell an echo from a leak. */
  String inputText() {
    StringBuilder text = new StringBuilder(path);
    for (Map.Entry<String, String> header : headers) {
      text.append('\n').append(header.getKey()).append(": ").append(header.getValue());
    }
    text.append('\n').append(new String(body, StandardCharsets.ISO_8859_1));
    text.append('\n').append(new String(body, StandardCharsets.UTF_8));
    if (message != null) {
      text.append('\n').append(message);
    }
    return text.toString();
  }

  /** How to send this case again: the seed and index, and what it is. */
  String replay() {
    return "seed=" + seed + " case=" + index + " (" + category + ")";
  }

  /** A readable description of the request: method, path, headers and the start of the body, escaped. */
  String describe(int maxBodyChars) {
    StringBuilder text = new StringBuilder();
    text.append(replay()).append('\n');
    if (channel == Channel.GRPC_STUB) {
      text.append("gRPC ModelInfer via the generated stub")
          .append(deadlineMicros > 0 ? ", deadline " + deadlineMicros + " us" : "").append(":\n");
      text.append(Escape.text(String.valueOf(message), maxBodyChars));
      return text.toString();
    }
    text.append(method).append(' ').append(path).append(http1 ? " HTTP/1.1" : " HTTP/2").append('\n');
    for (Map.Entry<String, String> header : headers) {
      text.append(header.getKey()).append(": ").append(Escape.text(header.getValue(), 200)).append('\n');
    }
    text.append("body (").append(body.length).append(" bytes): ").append(Escape.bytes(body, maxBodyChars));
    return text.toString();
  }

  static final class Builder {
    private final long seed;
    private final int index;
    private final Channel channel;
    private String category;
    private Expect expect = Expect.ANY;
    private boolean shortDeadline;
    private boolean oversizedHeaders;
    private boolean mayReset;
    private String method = "POST";
    private String path = "/";
    private final List<Map.Entry<String, String>> headers = new ArrayList<>();
    private byte[] body = new byte[0];
    private boolean http1;
    private boolean framed;
    private @Nullable ModelInferRequest message;
    private long deadlineMicros;

    private Builder(long seed, int index, Channel channel, String category) {
      this.seed = seed;
      this.index = index;
      this.channel = channel;
      this.category = category;
    }

    Builder category(String value) {
      category = value;
      return this;
    }

    Builder reject() {
      expect = Expect.REJECT;
      return this;
    }

    Builder expect(Expect value) {
      expect = value;
      return this;
    }

    Builder shortDeadline() {
      shortDeadline = true;
      return this;
    }

    Builder oversizedHeaders() {
      oversizedHeaders = true;
      return this;
    }

    Builder mayReset() {
      mayReset = true;
      return this;
    }

    Builder method(String value) {
      method = value;
      return this;
    }

    Builder path(String value) {
      path = value;
      return this;
    }

    Builder header(String name, String value) {
      headers.add(Map.entry(name, value));
      return this;
    }

    Builder removeHeader(String name) {
      headers.removeIf(header -> header.getKey().equalsIgnoreCase(name));
      return this;
    }

    Builder body(byte[] value) {
      body = value;
      return this;
    }

    Builder http1(boolean value) {
      http1 = value;
      return this;
    }

    Builder framed(boolean value) {
      framed = value;
      return this;
    }

    Builder message(ModelInferRequest value) {
      message = value;
      return this;
    }

    Builder deadlineMicros(long value) {
      deadlineMicros = value;
      return this;
    }

    FuzzCase build() {
      return new FuzzCase(this);
    }
  }

  /** Escapes text and bytes for reports: printable ASCII as is, everything else as \\xNN or \\uNNNN. */
  static final class Escape {
    private Escape() {}

    static String text(String value, int max) {
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < value.length() && out.length() < max; i++) {
        char c = value.charAt(i);
        if (c >= 32 && c < 127 && c != '\\') {
          out.append(c);
        } else if (c == '\\') {
          out.append("\\\\");
        } else {
          out.append(String.format("\\u%04x", (int) c));
        }
      }
      if (out.length() >= max && value.length() > max) {
        out.append("... (").append(value.length()).append(" chars)");
      }
      return out.toString();
    }

    static String bytes(byte[] value, int max) {
      StringBuilder out = new StringBuilder();
      int i = 0;
      for (; i < value.length && out.length() < max; i++) {
        int b = value[i] & 0xff;
        if (b >= 32 && b < 127 && b != '\\') {
          out.append((char) b);
        } else if (b == '\\') {
          out.append("\\\\");
        } else {
          out.append(String.format("\\x%02x", b));
        }
      }
      if (i < value.length) {
        out.append("... (").append(value.length - i).append(" more bytes)");
      }
      return out.toString();
    }
  }
}
