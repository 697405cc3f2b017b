package io.serval.docker;

import io.serval.server.TestRepositories;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Puts models and versions into a repository folder the way a deployment should: copied under a hidden name, then
 * renamed into place in one step, so a watching server never sees half a model.
 */
final class Models {
  private Models() {}

  /** Copies the built-in model {@code source} (its files and every version) into {@code repository} as {@code name}. */
  static void copyInto(Path repository, String source, String name) throws IOException {
    Path staging = repository.resolve("." + name + ".partial");
    TestRepositories.copyTree(ServalImage.MODELS.resolve(source), staging);
    Files.move(staging, repository.resolve(name), StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Adds version {@code version} to the model {@code name} in {@code repository}: the built-in model {@code
   * source}'s version 1 files under the new number.
   */
  static void addVersion(Path repository, String name, String source, int version) throws IOException {
    Path staging = repository.resolve(name).resolve("." + version + ".partial");
    TestRepositories.copyTree(ServalImage.MODELS.resolve(source).resolve("1"), staging);
    Files.move(staging, repository.resolve(name).resolve(Integer.toString(version)),
        StandardCopyOption.ATOMIC_MOVE);
  }
}
