package io.serval.docker.k8s;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The manifests in {@code docker/k8s}, read as YAML documents with their place (file, document number, kind and
 * name) for error messages. A key given twice in one mapping is refused, as the Kubernetes API server refuses it.
 */
final class Manifests {
  /** The docker module (the tests' working directory). */
  static final Path MODULE = Path.of("").toAbsolutePath();
  /** The project root. */
  static final Path ROOT = MODULE.getParent();
  /** Plain Kubernetes manifests. */
  static final Path K8S = MODULE.resolve("k8s");
  /** KServe manifests. */
  static final Path KSERVE = K8S.resolve("kserve");

  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
  static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

  private Manifests() {}

  /** One YAML document of a manifest file. */
  record Document(String file, int number, JsonNode tree) {
    String apiVersion() {
      return tree.path("apiVersion").asText("");
    }

    String kind() {
      return tree.path("kind").asText("");
    }

    String name() {
      return tree.path("metadata").path("name").asText("?");
    }

    /** Where this document is, for messages: {@code docker/k8s/serval.yaml document 3 (Deployment serval)}. */
    String where() {
      return file + " document " + number + " (" + (kind().isEmpty() ? "no kind" : kind()) + " " + name() + ")";
    }
  }

  /** The {@code .yaml} files directly in a folder, by name. */
  static List<Path> yamlFiles(Path folder) {
    try (Stream<Path> files = Files.list(folder)) {
      return files.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().endsWith(".yaml")).sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The documents of every {@code .yaml} file directly in a folder. */
  static List<Document> documents(Path folder) {
    List<Document> documents = new ArrayList<>();
    for (Path file : yamlFiles(folder)) {
      documents.addAll(read(file));
    }
    return documents;
  }

  /** The documents of one file. */
  static List<Document> read(Path file) {
    try {
      return parse(display(file), Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The documents of YAML text, named {@code file} in messages; empty documents are skipped. */
  static List<Document> parse(String file, String text) {
    List<Document> documents = new ArrayList<>();
    try (var values = YAML.readerFor(JsonNode.class).readValues(YAML.getFactory().createParser(text))) {
      int number = 0;
      while (values.hasNextValue()) {
        JsonNode tree = (JsonNode) values.nextValue();
        if (tree == null || tree.isNull() || tree.isMissingNode()) {
          continue;
        }
        number++;
        if (!(tree instanceof ObjectNode)) {
          throw new IllegalArgumentException(file + " document " + number + " is not a mapping: " + tree);
        }
        documents.add(new Document(file, number, tree));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": not valid YAML: " + e.getMessage(), e);
    }
    return documents;
  }

  /** The one document of a kind among these; fails naming what was found otherwise. */
  static Document only(List<Document> documents, String kind) {
    List<Document> found = documents.stream().filter(d -> d.kind().equals(kind)).toList();
    if (found.size() != 1) {
      throw new AssertionError("expected exactly one " + kind + " in " + K8S + ", found "
          + found.stream().map(Document::where).toList());
    }
    return found.get(0);
  }

  /** A file's path from the project root, as messages name it. */
  static String display(Path file) {
    return ROOT.relativize(file.toAbsolutePath()).toString();
  }

  /** A file's text with {@code from} replaced by {@code to}; fails unless {@code from} occurs exactly once. */
  static String replaceOnce(Path file, String from, String to) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      int at = text.indexOf(from);
      if (at < 0 || text.indexOf(from, at + 1) >= 0) {
        throw new AssertionError("'" + from + "' should occur exactly once in " + display(file)
            + " to make the faulty copy; update the test");
      }
      return text.substring(0, at) + to + text.substring(at + from.length());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
