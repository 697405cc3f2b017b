package io.serval.server.security;

import java.util.Locale;

/** What a bearer token allows; each endpoint needs one scope, or none when it is open (health probes). */
public enum Scope {
  /** Every KServe v2 call, HTTP and gRPC: metadata, inference, statistics, the repository index. */
  INFER,
  /** Management calls (repository load and unload), served on the management listener only. */
  MANAGE,
  /** {@code /metrics}. */
  METRICS;

  /** The name used in the configuration and in messages: {@code infer}, {@code manage}, {@code metrics}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The scope of a configuration name. */
  public static Scope ofConfigName(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }
}
