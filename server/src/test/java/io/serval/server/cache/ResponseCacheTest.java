package io.serval.server.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.DataType;
import io.serval.core.MemoryScope;
import io.serval.core.RequestedOutput;
import io.serval.core.Tensor;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResponseCacheTest {
  private static final List<RequestedOutput> OUTPUTS = List.of(new RequestedOutput("y", true, 0));

  @Test
  void neverHoldsMoreBytesThanItsBound() {
    ResponseCache cache = ResponseCache.ofMaxBytes(64 * 1024);

    for (int i = 0; i < 1000; i++) {
      cache.put(cache.key("m", "1", 1, List.of(input(i)), OUTPUTS), List.of(Tensor.ofFloats("y", new long[] {256},
          new float[256])));
      assertThat(cache.weightedBytes()).as("after %d puts", i + 1).isLessThanOrEqualTo(cache.maxBytes());
    }
    assertThat(cache.weightedBytes()).isGreaterThan(cache.maxBytes() / 2);
  }

  @Test
  void keysDifferByVersionInputBytesShapeAndRequestedOutputs() {
    ResponseCache cache = ResponseCache.ofMaxBytes(1 << 20);
    ResponseCache.Key key = cache.key("m", "1", 1, List.of(input(1)), OUTPUTS);

    assertThat(cache.key("m", "1", 1, List.of(input(1)), OUTPUTS)).isEqualTo(key);
    assertThat(cache.key("m", "2", 1, List.of(input(1)), OUTPUTS)).isNotEqualTo(key);
    assertThat(cache.key("m", "1", 1, List.of(input(2)), OUTPUTS)).isNotEqualTo(key);
    assertThat(cache.key("m", "1", 2, List.of(input(1)), OUTPUTS)).as("a reload of version 1").isNotEqualTo(key);
    assertThat(cache.key("m", "1", 1, List.of(Tensor.ofFloats("x", new long[] {2, 2}, values(1))), OUTPUTS))
        .isNotEqualTo(key);
    assertThat(cache.key("m", "1", 1, List.of(input(1)), List.of(new RequestedOutput("y", true, 3))))
        .isNotEqualTo(key);
  }

  @Test
  void dropsTheEntriesOfARetiredLoad() {
    ResponseCache cache = ResponseCache.ofMaxBytes(1 << 20);
    ResponseCache.Key first = cache.key("m", "1", 1, List.of(input(1)), OUTPUTS);
    ResponseCache.Key reload = cache.key("m", "1", 2, List.of(input(1)), OUTPUTS);
    cache.put(first, List.of(input(7)));
    cache.put(reload, List.of(input(8)));

    cache.invalidate("m", 1);

    assertThat(cache.get(first)).isNull();
    assertThat(cache.get(reload)).isNotNull();
  }

  @Test
  void storesCompactCopiesThatOutliveTheRequestMemoryTheyCameFrom() {
    ResponseCache cache = ResponseCache.ofMaxBytes(1 << 20);
    MemoryScope batch = MemoryScope.open();
    ByteBuffer rows = batch.allocate(64 * 4);
    for (int i = 0; i < 64; i++) {
      rows.putFloat(i);
    }
    // One request's row of a batch of 64: a view that would keep the whole batch alive, and is freed with it.
    Tensor slice = Tensor.of("y", DataType.FP32, new long[] {1, 4}, rows.position(8).limit(24).slice());
    ResponseCache.Key key = cache.key("m", "1", 1, List.of(input(1)), OUTPUTS);

    cache.put(key, List.of(slice));
    batch.release();

    Tensor cached = cache.get(key).get(0);
    assertThat(cached.data().capacity()).as("the copy holds only its own bytes").isEqualTo(16);
    assertThat(new float[] {cached.floats().get(0), cached.floats().get(3)}).containsExactly(2f, 5f);
    assertThat(cache.weightedBytes()).as("what the cache counts").isLessThan(16 + 3 * 128 + 1);
  }

  private static Tensor input(int seed) {
    return Tensor.ofFloats("x", new long[] {1, 4}, values(seed));
  }

  private static float[] values(int seed) {
    return new float[] {seed, seed + 1, seed + 2, seed + 3};
  }
}
