package io.serval.engine.openvino;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the engine looks for OpenVINO's C library, and what it says when the library is nowhere. */
class RuntimeLocatorTest {
  @TempDir Path root;

  @Test
  void listsEveryFolderItSearchedWhenNoWheelIsInstalled() throws IOException {
    Files.createDirectories(root.resolve("usr/lib/python3.11"));
    RuntimeLocator.Search search = locator(Map.of("VIRTUAL_ENV", root.resolve("venv").toString())).locate(null);

    assertThat(search.library).isNull();
    assertThat(search.searched)
        .containsExactly(
            root.resolve("venv/lib/python3*/site-packages/openvino/libs"),
            root.resolve("venv/lib/python3*/dist-packages/openvino/libs"),
            root.resolve("work/module/.venv/lib/python3*/site-packages/openvino/libs"),
            root.resolve("work/module/.venv/lib/python3*/dist-packages/openvino/libs"),
            root.resolve("work/.venv/lib/python3*/site-packages/openvino/libs"),
            root.resolve("work/.venv/lib/python3*/dist-packages/openvino/libs"),
            root.resolve("home/.local/lib/python3*/site-packages/openvino/libs"),
            root.resolve("home/.local/lib/python3*/dist-packages/openvino/libs"),
            root.resolve("usr/local/lib/python3*/site-packages/openvino/libs"),
            root.resolve("usr/local/lib/python3*/dist-packages/openvino/libs"),
            root.resolve("usr/lib/python3.11/site-packages/openvino/libs"),
            root.resolve("usr/lib/python3.11/dist-packages/openvino/libs"));
    assertThat(search.notFoundMessage())
        .startsWith("OpenVINO runtime not found: no libopenvino_c.so in the openvino wheel's folders (searched: "
            + root.resolve("venv/lib/python3*/site-packages/openvino/libs") + ", ")
        .contains(root.resolve("usr/lib/python3.11/dist-packages/openvino/libs").toString())
        .contains("Install the openvino wheel (pip install openvino) in one of them, or set engines.openvino.lib_dir"
            + " or OPENVINO_LIB_DIR to the folder holding libopenvino_c.so");
  }

  @Test
  void findsTheVersionedLibraryOfAWheelInTheParentFoldersVenv() throws IOException {
    Path library = fakeWheel(root.resolve("work/.venv"), "python3.12", "site-packages");

    assertThat(locator(Map.of()).locate(null).library).isEqualTo(library);
  }

  @Test
  void findsADebianStyleDistPackagesWheel() throws IOException {
    Path library = fakeWheel(root.resolve("usr"), "python3", "dist-packages");

    assertThat(locator(Map.of()).locate(null).library).isEqualTo(library);
  }

  @Test
  void theLibDirSettingIsTheOnlyPlaceSearchedWhenGiven() throws IOException {
    fakeWheel(root.resolve("work/.venv"), "python3.12", "site-packages");
    Path bogus = root.resolve("opt/openvino");

    RuntimeLocator.Search search =
        locator(Map.of("OPENVINO_LIB_DIR", root.toString())).locate(bogus.toString());

    assertThat(search.library).isNull();
    assertThat(search.origin).isEqualTo("engines.openvino.lib_dir");
    assertThat(search.searched).containsExactly(bogus);
  }

  @Test
  void theEnvironmentVariableComesBeforeTheWheels() throws IOException {
    fakeWheel(root.resolve("work/.venv"), "python3.12", "site-packages");
    Path folder = Files.createDirectories(root.resolve("opt/openvino/runtime/lib/intel64"));
    Path library = Files.createFile(folder.resolve("libopenvino_c.so"));

    RuntimeLocator.Search search = locator(Map.of("OPENVINO_LIB_DIR", folder.toString())).locate(null);

    assertThat(search.library).isEqualTo(library);
    assertThat(search.origin).isEqualTo("OPENVINO_LIB_DIR");
  }

  @Test
  void findsTheProjectVenvsWheelFromTheModuleFolder() throws Exception {
    TestVenv.ensure();
    RuntimeLocator real = new RuntimeLocator(Map.of(), Path.of(""), root, List.of());

    Path library = real.locate(null).library;

    assertThat(library).isNotNull();
    assertThat(library.startsWith(TestVenv.VENV)).as("%s is in %s", library, TestVenv.VENV).isTrue();
    assertThat(library.getParent().getFileName().toString()).isEqualTo("libs");
  }

  private RuntimeLocator locator(Map<String, String> environment) {
    return new RuntimeLocator(
        environment,
        root.resolve("work/module"),
        root.resolve("home"),
        List.of(root.resolve("usr/local"), root.resolve("usr")));
  }

  private static Path fakeWheel(Path prefix, String python, String packages) throws IOException {
    Path libs = prefix.resolve("lib").resolve(python).resolve(packages).resolve("openvino/libs");
    Files.createDirectories(libs);
    Files.createFile(libs.resolve("libopenvino.so.2641"));
    return Files.createFile(libs.resolve("libopenvino_c.so.2641"));
  }
}
