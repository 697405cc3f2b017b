package io.serval.server.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.common.ResponseHeaders;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.server.fuzz.FuzzCase.Channel;
import io.serval.server.fuzz.FuzzCase.Expect;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Sends {@link FuzzCase}s to a running server and judges each answer. The rules:
 *
 * <ul>
 *   <li>HTTP: 200 (unless the case must be rejected) or a 4xx whose body is a JSON object with a non-empty
 *       {@code error} naming the problem; never a 5xx, except 504 for a request whose own deadline was tiny.
 *   <li>gRPC: OK (unless the case must be rejected) or INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED,
 *       UNIMPLEMENTED, OUT_OF_RANGE, FAILED_PRECONDITION with a description; never INTERNAL, UNKNOWN, DATA_LOSS
 *       or UNAVAILABLE; DEADLINE_EXCEEDED only for a request with a tiny deadline.
 *   <li>No message holds a stack frame, a Java class name or an exception type ({@link Leaks}).
 *   <li>An answer comes within {@link #TIMEOUT}; the connection is only dropped for headers over the limit.
 * </ul>
 */
final class FuzzClient {
  static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Set<Status.Code> GRPC_CLIENT_ERRORS = EnumSet.of(Status.Code.INVALID_ARGUMENT,
      Status.Code.NOT_FOUND, Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNIMPLEMENTED, Status.Code.OUT_OF_RANGE,
      Status.Code.FAILED_PRECONDITION);

  /** What one case got, and what was wrong with it (null when nothing was). */
  static final class Outcome {
    /** e.g. {@code http 400}, {@code grpc INVALID_ARGUMENT}, {@code unframed 400}, {@code no answer}. */
    final String status;
    /** The error message the server gave, or the failure the client saw. */
    final String message;
    final @Nullable String violation;
    /** A 5xx or its gRPC equivalent that the case's own deadline does not explain. */
    final boolean serverError;

    Outcome(String status, String message, @Nullable String violation, boolean serverError) {
      this.status = status;
      this.message = message;
      this.violation = violation;
      this.serverError = serverError;
    }

    static Outcome ok(String status, String message) {
      return new Outcome(status, message, null, false);
    }

    static Outcome bad(String status, String message, String violation) {
      return new Outcome(status, message, violation, false);
    }
  }

  /** Clients sharing one connection pool. */
  private static final class Clients {
    final ClientFactory factory;
    final BlockingWebClient http2;
    final BlockingWebClient http1;
    final BlockingWebClient grpcHttp2;
    final BlockingWebClient grpcHttp1;

    Clients(FuzzServer server) {
      factory = ClientFactory.builder().build();
      http2 = web("h2c://127.0.0.1:" + server.httpPort);
      http1 = web("h1c://127.0.0.1:" + server.httpPort);
      grpcHttp2 = web("h2c://127.0.0.1:" + server.grpcPort);
      grpcHttp1 = web("h1c://127.0.0.1:" + server.grpcPort);
    }

    private BlockingWebClient web(String uri) {
      return WebClient.builder(uri)
          .factory(factory)
          .responseTimeout(TIMEOUT)
          .maxResponseLength(64 << 20)
          .build()
          .blocking();
    }
  }

  private final FuzzServer server;
  /** For well-formed HTTP: connections many cases share, as real clients' are. */
  private final Clients shared;
  /** For cases that may reset their stream or connection: kept apart so a reset hits no other case. */
  private final Clients isolated;
  private final GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  FuzzClient(FuzzServer server) {
    this.server = server;
    shared = new Clients(server);
    isolated = new Clients(server);
    stub = GrpcClients.builder(server.grpcUri())
        .factory(shared.factory)
        .maxRequestMessageLength(64 << 20)
        .maxResponseMessageLength(64 << 20)
        .responseTimeout(TIMEOUT)
        .build(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
  }

  void close() {
    shared.factory.close();
    isolated.factory.close();
  }

  Outcome send(FuzzCase c) {
    Clients clients = c.mayReset ? isolated : shared;
    try {
      switch (c.channel) {
        case GRPC_STUB:
          return sendStub(c);
        case GRPC_RAW:
          return judgeRaw(c, execute(c.http1 ? clients.grpcHttp1 : clients.grpcHttp2, c));
        default:
          return judgeHttp(c, execute(c.http1 ? clients.http1 : clients.http2, c));
      }
    } catch (IllegalArgumentException e) {
      // Armeria's client will not send a request target it finds invalid (%00, %zz): send it by hand.
      try {
        return judgeHttp(c, RawHttp1.send(c.channel == Channel.HTTP ? server.httpPort : server.grpcPort, c, TIMEOUT));
      } catch (java.net.SocketTimeoutException raw) {
        return noAnswer(c, raw);
      } catch (IOException raw) {
        // The server may answer 400 to a bad request target at once and close while the body is still coming:
        // the reset can then discard the answer before the client reads it.
        return Outcome.ok("connection closed (invalid request target)", String.valueOf(raw));
      } catch (RuntimeException raw) {
        return noAnswer(c, raw);
      }
    } catch (Exception e) {
      // Armeria's blocking client rethrows checked exceptions (a connection reset) without declaring them.
      return noAnswer(c, e);
    }
  }

  private static AggregatedHttpResponse execute(BlockingWebClient client, FuzzCase c) {
    RequestHeadersBuilder headers = RequestHeaders.builder(HttpMethod.valueOf(c.method), c.path);
    for (Map.Entry<String, String> header : c.headers) {
      headers.add(header.getKey(), header.getValue());
    }
    return client.execute(headers.build(), HttpData.wrap(c.body));
  }

  private static Outcome noAnswer(FuzzCase c, Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String what = e.getClass().getSimpleName() + (root != e ? " caused by " + root.getClass().getSimpleName() : "")
        + ": " + e.getMessage();
    String name = e.getClass().getSimpleName() + " " + root.getClass().getSimpleName();
    if (name.contains("Timeout")) {
      return new Outcome("no answer (timeout)", what, "no answer within " + TIMEOUT.toSeconds() + " s (a hang)", true);
    }
    if (c.mayReset) {
      return Outcome.ok("stream reset (" + (c.oversizedHeaders ? "oversized headers" : "HTTP/2 violation") + ")", what);
    }
    if (c.body.length > FuzzGenerator.MAX_REQUEST_BYTES) {
      // A server may answer 413 before the body is in and close the connection while the client still sends.
      return Outcome.ok("connection closed (body over the limit)", what);
    }
    return Outcome.bad("no answer (" + e.getClass().getSimpleName() + ")", what,
        "the connection failed without an answer");
  }

  // --- HTTP --------------------------------------------------------------------------------------------------

  /**
   * What an HTTP status alone says of an answer: a success (wrong for a case that expects rejection), a server
   * error, a status outside 4xx, or a bare 431 for oversized headers; {@code null} when the error body decides.
   */
  private static @Nullable Outcome judgeStatus(FuzzCase c, String status, int code, String content) {
    if (code == 200) {
      if (c.expect == Expect.REJECT) {
        // No message: the answer is a result, and findings are grouped by message.
        return Outcome.bad(status, "", "accepted a malformed request (200 instead of a 4xx)");
      }
      return Outcome.ok(status, "");
    }
    if (code >= 500 && !allowedServerStatus(c, code)) {
      return new Outcome(status, abbreviate(content), "server error " + code, true);
    }
    if (code < 400) {
      return Outcome.bad(status, abbreviate(content), "unexpected status " + code);
    }
    if (code == 431 && c.oversizedHeaders && content.isEmpty()) {
      return Outcome.ok(status, "");
    }
    return null;
  }

  private static Outcome judgeHttp(FuzzCase c, AggregatedHttpResponse response) {
    int code = response.status().code();
    String status = "http " + code;
    String content = response.contentUtf8();
    Outcome byStatus = judgeStatus(c, status, code, content);
    if (byStatus != null) {
      return byStatus;
    }
    return errorBody(c, status, response.headers(), content);
  }

  /** 501 for a feature Serval does not have; 504 when the request's own, tiny, deadline passed. */
  private static boolean allowedServerStatus(FuzzCase c, int code) {
    return code == 501 || (code == 504 && c.shortDeadline);
  }

  /** A v2 error body: {@code {"error": "<what was wrong>", ...}} with nothing internal in it. */
  private static Outcome errorBody(FuzzCase c, String status, ResponseHeaders headers, String content) {
    JsonNode body;
    try {
      body = MAPPER.readTree(content);
    } catch (IOException e) {
      body = null;
    }
    if (body == null || !body.isObject() || !body.path("error").isTextual()) {
      return Outcome.bad(status, abbreviate(content), "the error body is not a JSON object with an 'error' string"
          + " (content-type " + headers.contentType() + ")");
    }
    String message = body.get("error").asText();
    return judgeMessage(c, status, message, content);
  }

  private static Outcome judgeMessage(FuzzCase c, String status, String message, String whole) {
    if (message.isBlank()) {
      return Outcome.bad(status, message, "the error message is empty");
    }
    String leak = Leaks.find(whole, c::inputText);
    if (leak != null) {
      return Outcome.bad(status, abbreviate(message), "the message leaks internals: '" + leak + "'");
    }
    String vague = message.trim().toLowerCase(Locale.ROOT);
    if (vague.length() < 12 || vague.equals("bad request") || vague.equals("not found")
        || vague.equals("request entity too large") || vague.equals("internal server error")
        || vague.equals("unsupported media type") || vague.equals("method not allowed")) {
      return Outcome.bad(status, message, "the message does not name the problem");
    }
    return Outcome.ok(status, abbreviate(message));
  }

  // --- gRPC ----------------------------------------------------------------------------------------------------

  private Outcome sendStub(FuzzCase c) {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub call = stub;
    if (c.deadlineMicros > 0) {
      call = stub.withDeadlineAfter(c.deadlineMicros, TimeUnit.MICROSECONDS);
    }
    try {
      call.modelInfer(c.message);
    } catch (StatusRuntimeException e) {
      return judgeGrpc(c, "grpc", e.getStatus().getCode(), e.getStatus().getDescription());
    }
    return judgeGrpc(c, "grpc", Status.Code.OK, null);
  }

  private static Outcome judgeGrpc(FuzzCase c, String prefix, Status.Code code, @Nullable String description) {
    String status = prefix + " " + code;
    String message = description == null ? "" : description;
    if (code == Status.Code.OK) {
      if (c.expect == Expect.REJECT) {
        return Outcome.bad(status, "", "accepted a malformed request (OK instead of an error status)");
      }
      return Outcome.ok(status, "");
    }
    if (code == Status.Code.DEADLINE_EXCEEDED && c.shortDeadline) {
      return Outcome.ok(status, abbreviate(message));
    }
    if (!GRPC_CLIENT_ERRORS.contains(code)) {
      boolean serverError = code == Status.Code.INTERNAL || code == Status.Code.UNKNOWN
          || code == Status.Code.DATA_LOSS || code == Status.Code.UNAVAILABLE
          || code == Status.Code.DEADLINE_EXCEEDED;
      return new Outcome(status, abbreviate(message), "gRPC status " + code + " (expected a client error)",
          serverError);
    }
    return judgeMessage(c, status, message, message);
  }

  private static Outcome judgeRaw(FuzzCase c, AggregatedHttpResponse response) {
    int code = response.status().code();
    String content = response.contentUtf8();
    String grpcStatus = response.trailers().get("grpc-status");
    if (grpcStatus == null) {
      grpcStatus = response.headers().get("grpc-status");
    }
    String webMessage = null;
    if (grpcStatus == null && content.contains("grpc-status:")) {
      // gRPC-Web carries the trailers in the body, as a frame of "name: value" lines.
      for (String line : content.split("\r\n")) {
        int at = line.indexOf("grpc-status:");
        if (at >= 0) {
          grpcStatus = line.substring(at + "grpc-status:".length()).trim();
        } else if (line.startsWith("grpc-message:")) {
          webMessage = line.substring("grpc-message:".length()).trim();
        }
      }
    }
    if (c.framed && grpcStatus != null) {
      if (code >= 500) {
        return new Outcome("http " + code, abbreviate(content), "server error " + code, true);
      }
      String rawMessage = response.trailers().get("grpc-message");
      if (rawMessage == null) {
        rawMessage = response.headers().get("grpc-message");
      }
      if (rawMessage == null) {
        rawMessage = webMessage;
      }
      String message = rawMessage == null ? null : percentDecode(rawMessage);
      Status.Code statusCode;
      try {
        statusCode = Status.fromCodeValue(Integer.parseInt(grpcStatus.trim())).getCode();
      } catch (NumberFormatException e) {
        return Outcome.bad("grpc-status " + grpcStatus, "", "grpc-status is not a number");
      }
      return judgeGrpc(c, "grpc-raw", statusCode, message);
    }
    String status = (c.framed ? "grpc-raw http " : "unframed ") + code;
    if (code == 200 && c.framed) {
      return Outcome.bad(status, abbreviate(content), "a gRPC answer without grpc-status");
    }
    Outcome byStatus = judgeStatus(c, status, code, content);
    if (byStatus != null) {
      return byStatus;
    }
    // Armeria renders an unframed gRPC error as plain text or JSON; either must name the problem.
    String message = content;
    try {
      JsonNode body = MAPPER.readTree(content);
      if (body != null && body.isObject()) {
        JsonNode text = body.has("error") ? body.get("error") : body.path("message");
        if (text.isTextual()) {
          message = text.asText();
        }
      }
    } catch (IOException e) {
      // plain text
    }
    return judgeMessage(c, status, message, content);
  }

  private static String percentDecode(String value) {
    try {
      return URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return value;
    }
  }

  /** At most 400 characters of {@code text}, escaped (answers can hold binary tensors). */
  static String abbreviate(String text) {
    return FuzzCase.Escape.text(text, 400);
  }
}
