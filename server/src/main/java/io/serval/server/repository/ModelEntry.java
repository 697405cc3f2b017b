package io.serval.server.repository;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * A model folder as it is served at one moment: its versions (loaded or failed), and the reason for the latest
 * problem with the folder as a whole. Immutable: the repository replaces a model's entry as one step, so a request
 * sees the versions before a change or after it, never half of it.
 */
public final class ModelEntry {
  private final String name;
  private final Path directory;
  private final String reason;
  private final NavigableMap<Long, ModelVersion> versions;
  private final boolean unloaded;
  private final boolean required;
  private final Map<String, Long> labels;
  private final @Nullable String defaultVersion;

  ModelEntry(String name, Path directory, String reason, NavigableMap<Long, ModelVersion> versions,
      boolean unloaded, boolean required, Map<String, Long> labels, @Nullable String defaultVersion) {
    this.name = name;
    this.directory = directory;
    this.reason = reason;
    this.versions = Collections.unmodifiableNavigableMap(new TreeMap<>(versions));
    this.unloaded = unloaded;
    this.required = required;
    this.labels = Collections.unmodifiableMap(new TreeMap<>(labels));
    this.defaultVersion = defaultVersion;
  }

  ModelEntry(String name, Path directory, String reason, NavigableMap<Long, ModelVersion> versions) {
    this(name, directory, reason, versions, false, true, Map.of(), null);
  }

  /** This entry with other versions and reason, the same labels and flags. */
  ModelEntry with(String newReason, NavigableMap<Long, ModelVersion> newVersions) {
    return new ModelEntry(name, directory, newReason, newVersions, unloaded, required, labels, defaultVersion);
  }

  /** This entry with other labels and default version. */
  ModelEntry withLabels(Map<String, Long> newLabels, @Nullable String newDefault) {
    return new ModelEntry(name, directory, reason, versions, unloaded, required, newLabels, newDefault);
  }

  public String name() {
    return name;
  }

  public Path directory() {
    return directory;
  }

  /**
   * The latest problem with the model as a whole (a broken configuration, a folder in two repositories, a reload
   * that failed while older versions kept serving); empty when there is none.
   */
  public String reason() {
    return reason;
  }

  /** The versions the policy chose, loaded or failed, by number. */
  public NavigableMap<Long, ModelVersion> versions() {
    return versions;
  }

  /** Whether the model was unloaded through the repository API (and not loaded again since). */
  public boolean unloaded() {
    return unloaded;
  }

  /** Whether the server is ready only when this model is ({@code required} in its configuration, by default). */
  public boolean required() {
    return required;
  }

  /** The version labels in force, by label: the configuration's, as changed through the management API. */
  public Map<String, Long> labels() {
    return labels;
  }

  /** Where a request without a version goes (a number or a label), or {@code null} for the highest ready one. */
  public @Nullable String defaultVersion() {
    return defaultVersion;
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
