package io.serval.server.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Which of a model's version folders are served: the latest N (default 1), all, or a given list. */
public final class VersionPolicy {
  /** The three kinds of policy, as Triton names them. */
  public enum Kind {
    LATEST,
    ALL,
    SPECIFIC
  }

  private final Kind kind;
  private final int latest;
  private final long[] specific;

  private VersionPolicy(Kind kind, int latest, long[] specific) {
    this.kind = kind;
    this.latest = latest;
    this.specific = specific;
  }

  public static VersionPolicy latest(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("latest: " + count + " (expected: >= 1)");
    }
    return new VersionPolicy(Kind.LATEST, count, new long[0]);
  }

  public static VersionPolicy all() {
    return new VersionPolicy(Kind.ALL, 0, new long[0]);
  }

  public static VersionPolicy specific(long... versions) {
    return new VersionPolicy(Kind.SPECIFIC, 0, versions.clone());
  }

  public Kind kind() {
    return kind;
  }

  /** For {@link Kind#LATEST}: how many of the highest versions are served. */
  public int latestCount() {
    return latest;
  }

  /** For {@link Kind#SPECIFIC}: the versions served. */
  public long[] specificVersions() {
    return specific.clone();
  }

  /** The versions to serve out of those on disk, highest first. */
  public List<Long> select(List<Long> onDisk) {
    List<Long> sorted = new ArrayList<>(onDisk);
    sorted.sort((a, b) -> Long.compare(b, a));
    switch (kind) {
      case LATEST:
        return sorted.subList(0, Math.min(latest, sorted.size()));
      case ALL:
        return sorted;
      default:
        return sorted.stream()
            .filter(v -> Arrays.stream(specific).anyMatch(s -> s == v))
            .collect(Collectors.toList());
    }
  }

  @Override
  public String toString() {
    switch (kind) {
      case LATEST:
        return "latest " + latest;
      case ALL:
        return "all";
      default:
        return "specific " + Arrays.toString(specific);
    }
  }
}
