package io.serval.server.fuzz;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/** HTTP/1.1 over a plain socket, for the request targets Armeria's client refuses to send ({@code %00}, {@code %zz}). */
final class RawHttp1 {
  private RawHttp1() {}

  static AggregatedHttpResponse send(int port, FuzzCase c, Duration timeout) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout((int) timeout.toMillis());
      StringBuilder head = new StringBuilder();
      head.append(c.method).append(' ').append(c.path).append(" HTTP/1.1\r\n");
      head.append("host: 127.0.0.1:").append(port).append("\r\n");
      for (Map.Entry<String, String> header : c.headers) {
        head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
      }
      head.append("content-length: ").append(c.body.length).append("\r\n");
      head.append("connection: close\r\n\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.write(c.body);
      out.flush();
      return parse(socket.getInputStream().readAllBytes());
    }
  }

  private static AggregatedHttpResponse parse(byte[] response) throws IOException {
    int end = FuzzGenerator.indexOf(response, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    if (end < 0) {
      throw new IOException("no complete response head in " + response.length + " bytes");
    }
    String[] lines = new String(response, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    ResponseHeadersBuilder headers = ResponseHeaders.builder(HttpStatus.valueOf(Integer.parseInt(statusLine[1])));
    boolean chunked = false;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      chunked |= name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked");
      if (!name.equals("transfer-encoding") && !name.equals("connection") && !name.equals("content-length")) {
        headers.add(name, value);
      }
    }
    byte[] body = Arrays.copyOfRange(response, end + 4, response.length);
    if (chunked) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int at = 0;
      while (at < body.length) {
        int lineEnd = FuzzGenerator.indexOf(body, "\r\n".getBytes(StandardCharsets.ISO_8859_1), at);
        String size = new String(body, at, lineEnd - at, StandardCharsets.ISO_8859_1).split(";")[0].trim();
        int length = Integer.parseInt(size, 16);
        if (length == 0) {
          break;
        }
        out.write(body, lineEnd + 2, length);
        at = lineEnd + 2 + length + 2;
      }
      body = out.toByteArray();
    }
    return AggregatedHttpResponse.of(headers.build(), HttpData.wrap(body));
  }
}
