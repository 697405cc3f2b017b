package io.serval.server.protocol.v2.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.serval.core.InvalidInputException;
import io.serval.core.PayloadTooLargeException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;
import org.jspecify.annotations.Nullable;

/**
 * Decodes a request body by its {@code Content-Encoding} (gzip, deflate or none), never inflating past the
 * server's body limit, and reporting a corrupt or truncated body precisely; and reads the small JSON bodies of the
 * calls that are not inference (repository, management), which may be left out.
 */
public final class RequestBodies {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private RequestBodies() {}

  /**
   * The body as a JSON object; an empty one when the body is empty or blank.
   *
   * @param what the request, as messages name it ({@code "the repository index request"})
   * @throws InvalidInputException for malformed JSON, or JSON that is not an object
   */
  public static JsonNode jsonObject(String text, String what) {
    if (text.isBlank()) {
      return MAPPER.createObjectNode();
    }
    JsonNode body;
    try {
      body = MAPPER.readTree(text);
    } catch (IOException e) {
      throw new InvalidInputException("malformed JSON in the request: " + e.getMessage());
    }
    if (body == null || !body.isObject()) {
      throw new InvalidInputException(what + " is not a JSON object");
    }
    return body;
  }

  public static byte[] decode(byte[] body, @Nullable String contentEncoding, int maxBytes) {
    String encoding = contentEncoding == null ? "identity" : contentEncoding.trim().toLowerCase(Locale.ROOT);
    switch (encoding) {
      case "":
      case "identity":
        return body;
      case "gzip":
      case "x-gzip":
        return inflate(body, "gzip", maxBytes);
      case "deflate":
        return inflate(body, "deflate", maxBytes);
      default:
        throw new InvalidInputException(
            "Content-Encoding '" + contentEncoding + "' is not supported (expected: gzip, deflate or identity)");
    }
  }

  private static byte[] inflate(byte[] body, String encoding, int maxBytes) {
    try (InputStream in = encoding.equals("gzip")
        ? new GZIPInputStream(new ByteArrayInputStream(body))
        : new InflaterInputStream(new ByteArrayInputStream(body))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(maxBytes, body.length * 4 + 64));
      byte[] chunk = new byte[64 * 1024];
      int read;
      while ((read = in.read(chunk)) > 0) {
        if (out.size() + read > maxBytes) {
          throw new PayloadTooLargeException("the " + encoding + " request body inflates past " + maxBytes
              + " bytes (expected: at most limits.max_request_bytes)");
        }
        out.write(chunk, 0, read);
      }
      return out.toByteArray();
    } catch (EOFException e) {
      throw new InvalidInputException("the " + encoding + " request body is truncated (" + body.length
          + " compressed bytes end before the " + encoding + " stream does)");
    } catch (ZipException e) {
      throw new InvalidInputException("the request body is not valid " + encoding + ": " + e.getMessage());
    } catch (IOException e) {
      throw new InvalidInputException("the " + encoding + " request body cannot be read: " + e.getMessage());
    }
  }
}
