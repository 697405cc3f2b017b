package io.serval.engine.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanCacheTest {
  private static final String SHA = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final PlanCacheKey KEY = PlanCacheKey.of(SHA, "11.2.0.5", "8.6", "precision=fp32;profile=none");
  private static final PlanCacheKey OTHER = PlanCacheKey.of(SHA, "11.2.0.5", "8.9", "precision=fp32;profile=none");

  @TempDir Path dir;

  private static ByteBuffer plan(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return ByteBuffer.wrap(bytes);
  }

  private static byte[] bytesOf(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  @Test
  void aStoredPlanLoadsByteForByte() throws IOException {
    PlanCache cache = PlanCache.in(dir.resolve("plans"));
    cache.store(KEY, plan(100_000));

    Optional<ByteBuffer> loaded = cache.load(KEY);

    assertThat(loaded).isPresent();
    assertThat(bytesOf(loaded.get())).isEqualTo(bytesOf(plan(100_000)));
    assertThat(cache.pathOf(KEY)).isEqualTo(dir.resolve("plans").resolve(KEY.fileName()));
  }

  @Test
  void aMissingPlanIsAMiss() throws IOException {
    assertThat(PlanCache.in(dir).load(KEY)).isEmpty();
  }

  @Test
  void storingLeavesNoTemporaryFileBehind() throws IOException {
    PlanCache cache = PlanCache.in(dir);
    cache.store(KEY, plan(1000));
    cache.store(KEY, plan(2000));

    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files).containsExactly(cache.pathOf(KEY));
    }
    assertThat(cache.load(KEY)).hasValueSatisfying(loaded -> assertThat(loaded.remaining()).isEqualTo(2000));
  }

  @Test
  void aShortPlanIsDeletedAndRebuilt() throws IOException {
    PlanCache cache = PlanCache.in(dir);
    cache.store(KEY, plan(5000));
    byte[] whole = Files.readAllBytes(cache.pathOf(KEY));
    Files.write(cache.pathOf(KEY), Arrays.copyOf(whole, whole.length - 100));

    assertThat(cache.load(KEY)).isEmpty();
    assertThat(cache.pathOf(KEY)).doesNotExist();
  }

  @Test
  void aPlanWithAFlippedByteIsDeletedAndRebuilt() throws IOException {
    PlanCache cache = PlanCache.in(dir);
    cache.store(KEY, plan(5000));
    byte[] whole = Files.readAllBytes(cache.pathOf(KEY));
    whole[whole.length - 1] ^= 1;
    Files.write(cache.pathOf(KEY), whole);

    assertThat(cache.load(KEY)).isEmpty();
    assertThat(cache.pathOf(KEY)).doesNotExist();
  }

  @Test
  void aFileWrittenForAnotherKeyIsNotTakenForThisOne() throws IOException {
    PlanCache cache = PlanCache.in(dir);
    cache.store(OTHER, plan(500));
    Files.copy(cache.pathOf(OTHER), cache.pathOf(KEY));

    assertThat(cache.load(KEY)).isEmpty();
    assertThat(cache.load(OTHER)).isPresent();
  }

  @Test
  void aFileThatIsNotAPlanFileIsAMiss() throws IOException {
    PlanCache cache = PlanCache.in(dir);
    Files.write(cache.pathOf(KEY), new byte[] {1, 2, 3});

    assertThat(cache.load(KEY)).isEmpty();
    assertThat(cache.pathOf(KEY)).doesNotExist();
  }

  @Test
  void invalidatingDeletesThePlan() throws IOException {
    PlanCache cache = PlanCache.in(dir);
    cache.store(KEY, plan(10));

    cache.invalidate(KEY);

    assertThat(cache.load(KEY)).isEmpty();
  }
}
