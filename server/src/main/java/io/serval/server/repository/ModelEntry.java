package io.serval.server.repository;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/** A model folder: its served versions, or the reason none could be (a broken configuration). */
public final class ModelEntry {
  private final String name;
  private final Path directory;
  private final String reason;
  private final NavigableMap<Long, ModelVersion> versions;

  ModelEntry(String name, Path directory, String reason, NavigableMap<Long, ModelVersion> versions) {
    this.name = name;
    this.directory = directory;
    this.reason = reason;
    this.versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
  }

  public String name() {
    return name;
  }

  public Path directory() {
    return directory;
  }

  /** Why the model as a whole cannot be served; empty when its configuration is sound. */
  public String reason() {
    return reason;
  }

  /** The versions the policy chose, loaded or failed, by number. */
  public NavigableMap<Long, ModelVersion> versions() {
    return versions;
  }

  /** The ready versions, highest first. */
  public List<ModelVersion> readyVersions() {
    return versions.descendingMap().values().stream().filter(ModelVersion::isReady).toList();
  }

  /** The highest ready version, the one a request without a version goes to. */
  public @Nullable ModelVersion highestReady() {
    List<ModelVersion> ready = readyVersions();
    return ready.isEmpty() ? null : ready.get(0);
  }


}
