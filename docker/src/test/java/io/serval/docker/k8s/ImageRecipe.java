package io.serval.docker.k8s;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the manifests must agree with in {@code docker/Dockerfile}, read from its instructions (the last stage's,
 * where they repeat): the ports it exposes, the numeric user and group it runs as, the configuration file
 * {@code SERVAL_CONFIG} names and where the built-in models are copied.
 */
record ImageRecipe(List<Integer> exposedPorts, int uid, int gid, String configFile, String builtInModels) {
  static final Path DOCKERFILE = Manifests.MODULE.resolve("Dockerfile");

  static ImageRecipe read() {
    String text;
    try {
      text = Files.readString(DOCKERFILE, StandardCharsets.UTF_8).replaceAll("\\\\\\r?\\n", " ");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Integer> ports = Arrays.stream(last(text, "^EXPOSE\\s+(.+)$").trim().split("\\s+"))
        .map(p -> Integer.parseInt(p.replaceFirst("/tcp$", ""))).toList();
    Matcher user = Pattern.compile("^USER\\s+(\\d+):(\\d+)\\s*$", Pattern.MULTILINE).matcher(text);
    if (!user.find()) {
      throw new AssertionError(Manifests.display(DOCKERFILE) + " has no USER uid:gid instruction (numeric, so that"
          + " Kubernetes' runAsNonRoot can check it)");
    }
    return new ImageRecipe(ports, Integer.parseInt(user.group(1)), Integer.parseInt(user.group(2)),
        last(text, "^ENV\\s.*\\bSERVAL_CONFIG=(\\S+)"), last(text, "^COPY\\s+models\\s+(\\S+)\\s*$"));
  }

  private static String last(String text, String regex) {
    Matcher matcher = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
    String found = null;
    while (matcher.find()) {
      found = matcher.group(1);
    }
    if (found == null) {
      throw new AssertionError(Manifests.display(DOCKERFILE) + " has no line matching " + regex);
    }
    return found;
  }

  /** The folder the configuration file is in: where the ConfigMap must be mounted. */
  String configFolder() {
    return Path.of(configFile).getParent().toString();
  }

  /** The configuration file's name: the ConfigMap's key. */
  String configFileName() {
    return Path.of(configFile).getFileName().toString();
  }
}
