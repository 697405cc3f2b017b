package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Loading and initialising the engine's public classes, in a class loader of their own, must not reach Bytedeco's
 * Loader: Bytedeco's preset classes load their natives in static initialisers, and the server loads every engine on
 * its class path, GPU or not.
 */
class NoNativesAtClassLoadTest {
  /** A class loader that can say which classes it has loaded. */
  private static final class RecordingLoader extends URLClassLoader {
    RecordingLoader(URL[] urls) {
      super(urls, ClassLoader.getPlatformClassLoader());
    }

    boolean hasLoaded(String name) {
      return findLoadedClass(name) != null;
    }
  }

  @Test
  void loadingTheEngineAndItsProviderLoadsNoBytedecoLoader() throws Exception {
    List<URL> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      urls.add(Path.of(entry).toUri().toURL());
    }
    try (RecordingLoader loader = new RecordingLoader(urls.toArray(new URL[0]))) {
      Class.forName("io.serval.engine.tensorrt.TensorRtEngine", true, loader);
      Class.forName("io.serval.engine.tensorrt.TensorRtEngineProvider", true, loader)
          .getConstructor().newInstance();

      assertThat(loader.hasLoaded("io.serval.engine.tensorrt.TensorRtEngine")).isTrue();
      assertThat(loader.hasLoaded("org.bytedeco.javacpp.Loader")).isFalse();
      assertThat(loader.hasLoaded("org.bytedeco.cuda.global.cudart")).isFalse();
      assertThat(loader.hasLoaded("org.bytedeco.tensorrt.global.nvinfer")).isFalse();
    }
  }
}
