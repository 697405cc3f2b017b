package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every file the built-in models are made of (model files, tokenizers, dictionaries) is the one its folder's
 * {@code PROVENANCE.md} names by SHA-256: a file replaced without its provenance fails here.
 */
class ModelProvenanceTest {
  @Test
  void everyModelFileIsTheOneItsProvenanceHashes() throws Exception {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(TestRepositories.MODELS)) {
      files = walk.filter(Files::isRegularFile).filter(ModelProvenanceTest::hashed).sorted().toList();
    }
    assertThat(files).as("model files under models/").hasSizeGreaterThanOrEqualTo(5);
    for (Path file : files) {
      Path folder = TestRepositories.MODELS.resolve(TestRepositories.MODELS.relativize(file).getName(0));
      Path provenance = folder.resolve("PROVENANCE.md");
      assertThat(provenance).as("the provenance of " + file).isRegularFile();
      String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));

      assertThat(Files.readString(provenance)).as(TestRepositories.MODELS.relativize(file) + " has SHA-256 " + sha256)
          .contains(sha256);
    }
  }

  /** The files a model is made of: its ONNX files, a tokenizer, a recognition dictionary. */
  private static boolean hashed(Path file) {
    String name = file.getFileName().toString();
    return !file.toString().contains("golden") && !file.toString().contains("recipe")
        && (name.endsWith(".onnx") || name.equals("tokenizer.json") || name.equals("ppocr_keys_v1.txt"));
  }
}
