package io.serval.engine.openvino;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Finds OpenVINO's C library ({@code libopenvino_c.so}, or the versioned {@code libopenvino_c.so.2641} a wheel
 * ships) without loading it. A folder named by the operator is authoritative: the {@code lib_dir} setting if
 * given, else the {@code OPENVINO_LIB_DIR} environment variable if set, is the only place searched, so that a
 * wrong path is reported rather than silently replaced by another runtime. Otherwise the {@code openvino/libs}
 * folders of installed openvino wheels are searched: in {@code $VIRTUAL_ENV}, {@code ./.venv}, {@code ../.venv},
 * {@code ~/.local}, {@code /usr/local} and {@code /usr}, under each {@code lib/python3*}{@code /site-packages} and
 * {@code /dist-packages}.
 */
final class RuntimeLocator {
  static final String LIB_DIR_SETTING = "lib_dir";
  static final String LIB_DIR_VARIABLE = "OPENVINO_LIB_DIR";
  private static final String LIBRARY = System.mapLibraryName("openvino_c");
  private static final String WHEELS = "the openvino wheel's folders";

  private final Map<String, String> environment;
  private final Path workingDirectory;
  private final Path home;
  private final List<Path> systemPrefixes;

  RuntimeLocator(Map<String, String> environment, Path workingDirectory, Path home, List<Path> systemPrefixes) {
    this.environment = Map.copyOf(environment);
    this.workingDirectory = workingDirectory.toAbsolutePath().normalize();
    this.home = home.toAbsolutePath().normalize();
    this.systemPrefixes = List.copyOf(systemPrefixes);
  }

  /** A locator for this process: its environment, working directory and home. */
  static RuntimeLocator ofThisProcess() {
    return new RuntimeLocator(
        System.getenv(),
        Path.of(""),
        Path.of(System.getProperty("user.home")),
        List.of(Path.of("/usr/local"), Path.of("/usr")));
  }

  /** Searches for the library; {@code libDirSetting} is the engine's {@code lib_dir} setting, if any. */
  Search locate(@Nullable String libDirSetting) {
    if (libDirSetting != null) {
      return searchIn("engines.openvino." + LIB_DIR_SETTING, List.of(Path.of(libDirSetting)));
    }
    String variable = environment.get(LIB_DIR_VARIABLE);
    if (variable != null && !variable.isBlank()) {
      return searchIn(LIB_DIR_VARIABLE, List.of(Path.of(variable)));
    }
    return searchIn(WHEELS, wheelFolders());
  }

  private static Search searchIn(String origin, List<Path> folders) {
    List<Path> searched = new ArrayList<>();
    for (Path folder : folders) {
      Path absolute = folder.toAbsolutePath().normalize();
      searched.add(absolute);
      Path library = libraryIn(absolute);
      if (library != null) {
        return new Search(library, origin, searched);
      }
    }
    return new Search(null, origin, searched);
  }

  private List<Path> wheelFolders() {
    Set<Path> prefixes = new LinkedHashSet<>();
    String virtualEnv = environment.get("VIRTUAL_ENV");
    if (virtualEnv != null && !virtualEnv.isBlank()) {
      prefixes.add(Path.of(virtualEnv));
    }
    prefixes.add(workingDirectory.resolve(".venv"));
    prefixes.add(workingDirectory.resolve("..").resolve(".venv"));
    prefixes.add(home.resolve(".local"));
    prefixes.addAll(systemPrefixes);
    List<Path> folders = new ArrayList<>();
    for (Path prefix : prefixes) {
      Path lib = prefix.toAbsolutePath().normalize().resolve("lib");
      List<Path> pythons = pythonFolders(lib);
      if (pythons.isEmpty()) {
        // Listed as the pattern, so that the message shows the place looked at.
        pythons = List.of(lib.resolve("python3*"));
      }
      for (Path python : pythons) {
        folders.add(python.resolve("site-packages").resolve("openvino").resolve("libs"));
        folders.add(python.resolve("dist-packages").resolve("openvino").resolve("libs"));
      }
    }
    return folders;
  }

  /** The folders {@code lib/python3*}, in name order. */
  private static List<Path> pythonFolders(Path lib) {
    if (!Files.isDirectory(lib)) {
      return List.of();
    }
    Set<Path> found = new TreeSet<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(lib, "python3*")) {
      for (Path entry : entries) {
        if (Files.isDirectory(entry)) {
          found.add(entry);
        }
      }
    } catch (IOException e) {
      return List.of();
    }
    return new ArrayList<>(found);
  }

  /** The library in {@code folder}: its plain name, else a versioned one ({@code .so.N}, {@code .N.dylib}). */
  private static @Nullable Path libraryIn(Path folder) {
    Path plain = folder.resolve(LIBRARY);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    if (!Files.isDirectory(folder)) {
      return null;
    }
    int dot = LIBRARY.lastIndexOf('.');
    String suffix = LIBRARY.substring(dot);
    TreeSet<Path> versioned = new TreeSet<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder, LIBRARY.substring(0, dot) + ".*")) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        boolean matches = name.startsWith(LIBRARY + ".") || name.endsWith(suffix);
        if (matches && Files.isRegularFile(entry)) {
          versioned.add(entry);
        }
      }
    } catch (IOException e) {
      return null;
    }
    return versioned.isEmpty() ? null : versioned.last();
  }

  /** The outcome of a search: the library found, or every folder looked in. */
  static final class Search {
    final @Nullable Path library;
    final String origin;
    final List<Path> searched;

    Search(@Nullable Path library, String origin, List<Path> searched) {
      this.library = library;
      this.origin = origin;
      this.searched = List.copyOf(searched);
    }

    /** Why nothing was found, naming every folder searched and how to fix it. */
    String notFoundMessage() {
      String folders = searched.stream().map(Path::toString).collect(Collectors.joining(", "));
      String fix =
          origin.equals(WHEELS) ? "Install the openvino wheel (pip install openvino) in one of them, or set " : "Set ";
      return "OpenVINO runtime not found: no " + LIBRARY + " in " + origin + " (searched: " + folders + "). " + fix
          + "engines.openvino." + LIB_DIR_SETTING + " or " + LIB_DIR_VARIABLE + " to the folder holding " + LIBRARY
          + " (an openvino wheel's openvino/libs)";
    }
  }
}
