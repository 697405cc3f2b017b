package io.serval.server.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The SHA-256 of a bearer token, as the configuration stores it ({@code auth.tokens[].sha256}), and a command
 * that makes one, so that a token never has to be written into the configuration:
 *
 * <pre>{@code
 * java -cp serval-server.jar io.serval.server.security.TokenHash --generate   # a new random token and its hash
 * java -cp serval-server.jar io.serval.server.security.TokenHash < token.txt  # the hash of an existing token
 * printf %s "$TOKEN" | sha256sum                                              # the same hash, without Java
 * }</pre>
 */
public final class TokenHash {
  private static final int GENERATED_BYTES = 32;

  private TokenHash() {}

  /** The SHA-256 of the token's UTF-8 bytes. */
  public static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** The SHA-256 of the token in lower-case hex, the form {@code auth.tokens[].sha256} takes. */
  public static String sha256Hex(String token) {
    return HexFormat.of().formatHex(sha256(token));
  }

  /** A new token: 32 random bytes, URL-safe Base64 without padding (43 characters). */
  public static String generate() {
    byte[] bytes = new byte[GENERATED_BYTES];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /**
   * With {@code --generate}: prints a new token and the configuration entry for it. Without arguments: reads one
   * token from standard input (a final line break is ignored) and prints its hash.
   */
  public static void main(String[] args) throws IOException {
    if (args.length == 1 && args[0].equals("--generate")) {
      String token = generate();
      System.out.println("token:  " + token);
      System.out.println("sha256: " + sha256Hex(token));
      System.out.println();
      System.out.println("Give the token to the client; put only the hash into auth.tokens:");
      System.out.println("  - {name: CLIENT, sha256: " + sha256Hex(token) + ", scopes: [infer]}");
      return;
    }
    if (args.length != 0) {
      System.err.println("usage: TokenHash [--generate] < token");
      System.exit(2);
      return;
    }
    String token = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
    token = token.endsWith("\r\n") ? token.substring(0, token.length() - 2)
        : token.endsWith("\n") ? token.substring(0, token.length() - 1) : token;
    if (token.isEmpty()) {
      System.err.println("TokenHash: no token on standard input");
      System.exit(2);
      return;
    }
    System.out.println(sha256Hex(token));
  }
}
