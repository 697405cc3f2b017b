package io.serval.server.security;

import io.serval.server.config.ServerConfig;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The configured bearer tokens, each known only by its SHA-256. A presented token is hashed and compared with
 * every configured hash in constant time, so neither the comparison nor the position of a match tells anything
 * about the configured hashes.
 */
final class BearerTokens {
  /** A configured token: its name (for logs and messages) and its scopes. */
  record Holder(String name, Set<Scope> scopes) {}

  private static final Holder WARMUP = new Holder("serval-warmup", Set.of(Scope.INFER));

  private final List<byte[]> hashes = new ArrayList<>();
  private final List<Holder> holders = new ArrayList<>();
  /** The hash of the server's own warm-up token (infer scope) while the warm-up runs, else {@code null}. */
  private volatile byte @Nullable [] warmupHash;

  BearerTokens(List<ServerConfig.Token> tokens) {
    for (ServerConfig.Token token : tokens) {
      EnumSet<Scope> scopes = EnumSet.noneOf(Scope.class);
      token.scopes().forEach(scope -> scopes.add(Scope.ofConfigName(scope)));
      hashes.add(HexFormat.of().parseHex(token.sha256()));
      holders.add(new Holder(token.name(), Set.copyOf(scopes)));
    }
  }

  /** Whether no token is configured, which leaves every endpoint open. */
  boolean isEmpty() {
    return holders.isEmpty();
  }

  /** Whether some token has {@code scope}. */
  boolean anyWith(Scope scope) {
    return holders.stream().anyMatch(holder -> holder.scopes().contains(scope));
  }

  /** A new random token with the infer scope for the server's warm-up, valid until {@link #revokeWarmupToken}. */
  String issueWarmupToken() {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    warmupHash = TokenHash.sha256(token);
    return token;
  }

  void revokeWarmupToken() {
    warmupHash = null;
  }

  /** The holder of {@code token}, or {@code null} when it is none of the configured tokens. */
  @Nullable Holder find(String token) {
    byte[] presented = TokenHash.sha256(token);
    byte[] warmup = warmupHash;
    Holder found = warmup != null && MessageDigest.isEqual(presented, warmup) ? WARMUP : null;
    for (int i = 0; i < hashes.size(); i++) {
      // MessageDigest.isEqual takes the same time whatever the bytes; every hash is compared, match or not.
      boolean equal = MessageDigest.isEqual(presented, hashes.get(i));
      found = equal ? holders.get(i) : found;
    }
    return found;
  }
}
