package io.serval.docker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;

/**
 * The image under test: built once per test run from the real {@code docker/Dockerfile} with the docker command,
 * as a user builds it. The base images are the Dockerfile's defaults (the official Eclipse Temurin images), unless
 * the local ones that {@code docker/local-base-images.sh} makes from Debian's packages exist (a machine with no
 * registry), or {@code SERVAL_BUILD_IMAGE} / {@code SERVAL_RUNTIME_IMAGE} name others. Without a Docker engine the
 * tests are skipped; with the environment variable {@code CI} set they fail instead, since CI must run them.
 */
public final class ServalImage {
  /** The tag the tests build and run. */
  public static final String TAG = "serval:test";
  /** The project root. */
  public static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  /** The built-in models, as in the image's {@code /models}. */
  public static final Path MODELS = ROOT.resolve("models");

  private static final String LOCAL_BUILD_IMAGE = "serval-local/build:17";
  private static final String LOCAL_RUNTIME_IMAGE = "serval-local/jre:17";
  private static final long BUILD_TIMEOUT_MINUTES = 15;
  private static boolean built;

  private ServalImage() {}

  /** Builds the image the first time a test asks for it in this JVM. */
  public static synchronized String build() throws IOException, InterruptedException {
    requireDocker();
    if (!built) {
      List<String> command = new ArrayList<>(List.of("docker", "build", "-f", "docker/Dockerfile", "-t", TAG));
      String buildImage = baseImage("SERVAL_BUILD_IMAGE", LOCAL_BUILD_IMAGE);
      String runtimeImage = baseImage("SERVAL_RUNTIME_IMAGE", LOCAL_RUNTIME_IMAGE);
      if (buildImage != null) {
        command.addAll(List.of("--build-arg", "BUILD_IMAGE=" + buildImage));
      }
      if (runtimeImage != null) {
        command.addAll(List.of("--build-arg", "RUNTIME_IMAGE=" + runtimeImage));
      }
      command.add(".");
      Path log = Path.of("target", "docker-build.log").toAbsolutePath();
      Files.createDirectories(log.getParent());
      Process process = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      boolean finished = process.waitFor(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES);
      if (!finished) {
        process.destroyForcibly();
      }
      String output = Files.readString(log, StandardCharsets.UTF_8);
      String tail = output.substring(Math.max(0, output.length() - 4000));
      assertThat(finished).as("%s finished within %d minutes; its output ends:%n%s", command,
          BUILD_TIMEOUT_MINUTES, tail).isTrue();
      assertThat(process.exitValue()).as("exit code of %s (full output in %s); it ends:%n%s", command, log, tail)
          .isZero();
      built = true;
    }
    return TAG;
  }

  private static void requireDocker() {
    boolean available = DockerClientFactory.instance().isDockerAvailable();
    String missing = "no Docker engine reachable: install and start one (as root: apt-get install -y docker.io"
        + " debootstrap && dockerd &, then docker/local-base-images.sh when no registry is reachable)";
    if (System.getenv("CI") != null) {
      assertThat(available).as(missing).isTrue();
    }
    Assumptions.assumeTrue(available, missing);
  }

  /** The base image named by the variable, else the local one when it exists, else the Dockerfile's default. */
  private static String baseImage(String variable, String local) {
    String named = System.getenv(variable);
    if (named != null && !named.isBlank()) {
      return named;
    }
    boolean localExists = !DockerClientFactory.instance().client().listImagesCmd().withImageNameFilter(local)
        .exec().isEmpty();
    return localExists ? local : null;
  }
}
