package io.serval.server.repository;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What files look like without reading them: names, sizes and modification times. Two looks that give the same
 * fingerprint saw the same files, as far as a copy or an edit in progress shows; a different one means a change.
 */
public final class Fingerprint {
  private Fingerprint() {}

  /** One file's size and modification time, or {@code absent}. */
  public static String ofFile(Path file) {
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      return attributes.size() + "@" + attributes.lastModifiedTime().toMillis();
    } catch (NoSuchFileException e) {
      return "absent";
    } catch (IOException e) {
      return "unreadable: " + e.getMessage();
    }
  }

  /** Every file under {@code dir}, by relative path, with its size and modification time. */
  public static String ofFolder(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile)
          .sorted()
          .map(file -> dir.relativize(file) + "=" + ofFile(file))
          .collect(Collectors.joining(","));
    } catch (IOException | UncheckedIOException e) {
      return "unreadable: " + e.getMessage();
    }
  }
}
