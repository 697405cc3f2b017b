package io.serval.engine.tensorrt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Built plans on disk, one file per {@link PlanCacheKey}. A file holds a header (a magic line, the key's canonical
 * text, the plan's length and SHA-256) before the plan, so a file that is short, corrupt or was written for another
 * key is recognised, deleted and reported as a miss: the caller rebuilds it. Files are written to a temporary name in
 * the same directory, flushed to disk and then renamed, so that a reader, or another server sharing the directory,
 * never sees half a plan.
 *
 * <pre>{@code
 * PlanCache cache = PlanCache.in(settings.planCache());
 * ByteBuffer plan = cache.load(key).orElseGet(() -> { ByteBuffer built = build(); cache.store(key, built); ... });
 * }</pre>
 */
final class PlanCache {
  private static final Logger log = LoggerFactory.getLogger(PlanCache.class);
  private static final byte[] MAGIC = "SERVAL-TRT-PLAN\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DIGEST_BYTES = 32;

  private final Path directory;

  private PlanCache(Path directory) {
    this.directory = directory;
  }

  /** The cache kept in {@code directory}, created on the first store. */
  static PlanCache in(Path directory) {
    return new PlanCache(directory);
  }

  Path directory() {
    return directory;
  }

  /** Where the plan of {@code key} is kept. */
  Path pathOf(PlanCacheKey key) {
    return directory.resolve(key.fileName());
  }

  /**
   * The cached plan of {@code key}, read-only, or empty when there is none or the file is not a whole plan for this
   * key (then it is deleted, so the rebuilt plan takes its place).
   */
  Optional<ByteBuffer> load(PlanCacheKey key) throws IOException {
    Path file = pathOf(key);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    ByteBuffer contents;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      contents = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size()).order(ByteOrder.BIG_ENDIAN);
    }
    String problem = problemOf(contents, key);
    if (problem != null) {
      log.warn("plan cache {}: {}; deleting it, the plan is rebuilt", file, problem);
      Files.deleteIfExists(file);
      return Optional.empty();
    }
    return Optional.of(contents.slice().asReadOnlyBuffer());
  }

  /** Checks the header and leaves {@code contents} positioned at the plan; the problem found, or null. */
  private static String problemOf(ByteBuffer contents, PlanCacheKey key) {
    byte[] expectedKey = key.canonical().getBytes(StandardCharsets.UTF_8);
    if (contents.remaining() < MAGIC.length + Integer.BYTES) {
      return "shorter than its header";
    }
    byte[] magic = new byte[MAGIC.length];
    contents.get(magic);
    if (!Arrays.equals(magic, MAGIC)) {
      return "not a Serval plan file";
    }
    int keyLength = contents.getInt();
    if (keyLength != expectedKey.length || contents.remaining() < keyLength + Long.BYTES + DIGEST_BYTES) {
      return "written for another key";
    }
    byte[] writtenKey = new byte[keyLength];
    contents.get(writtenKey);
    if (!Arrays.equals(writtenKey, expectedKey)) {
      return "written for another key";
    }
    long planLength = contents.getLong();
    byte[] digest = new byte[DIGEST_BYTES];
    contents.get(digest);
    if (planLength != contents.remaining()) {
      return "holds " + contents.remaining() + " plan bytes (expected: " + planLength + ")";
    }
    MessageDigest actual = PlanCacheKey.sha256();
    actual.update(contents.duplicate());
    if (!MessageDigest.isEqual(actual.digest(), digest)) {
      return "its plan does not match its SHA-256";
    }
    return null;
  }

  /** Stores {@code plan} (read from its position to its limit) under {@code key}, replacing what was there. */
  void store(PlanCacheKey key, ByteBuffer plan) throws IOException {
    Files.createDirectories(directory);
    byte[] keyBytes = key.canonical().getBytes(StandardCharsets.UTF_8);
    MessageDigest digest = PlanCacheKey.sha256();
    digest.update(plan.duplicate());
    ByteBuffer header = ByteBuffer.allocate(MAGIC.length + Integer.BYTES + keyBytes.length + Long.BYTES
        + DIGEST_BYTES).order(ByteOrder.BIG_ENDIAN);
    header.put(MAGIC).putInt(keyBytes.length).put(keyBytes).putLong(plan.remaining()).put(digest.digest()).flip();
    Path target = pathOf(key);
    Path temporary = Files.createTempFile(directory, "." + target.getFileName(), ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
        ByteBuffer body = plan.duplicate();
        while (header.hasRemaining() || body.hasRemaining()) {
          channel.write(new ByteBuffer[] {header, body});
        }
        channel.force(true);
      }
      Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /** Deletes the plan of {@code key}: TensorRT refused it although its checksum held (a driver or library change). */
  void invalidate(PlanCacheKey key) throws IOException {
    Files.deleteIfExists(pathOf(key));
  }
}
