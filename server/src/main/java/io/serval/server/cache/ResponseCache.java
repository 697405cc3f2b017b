package io.serval.server.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import io.serval.core.RequestedOutput;
import io.serval.core.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Final outputs of earlier requests, keyed by model, version and a SHA-256 digest of every input's name,
 * datatype, shape and bytes and of the requested outputs. It stores compact copies of the outputs (never
 * views that would keep a whole batch's buffer alive), so the bytes it counts are the bytes it holds; eviction
 * runs on the writing thread, so the bound holds after every write. Size, hits, misses and evictions are in
 * Micrometer ({@code cache_*{cache="serval_response_cache"}}) once {@link #bindTo} has run.
 *
 * <pre>{@code
 * ResponseCache cache = ResponseCache.ofMaxBytes(256 << 20);
 * ResponseCache.Key key = cache.key("cls", "1", version.generation(), inputs, outputs);
 * List<Tensor> hit = cache.get(key);
 * }</pre>
 */
public final class ResponseCache {
  /** Bytes counted per tensor and per key on top of their data, for names and object headers. */
  private static final int OVERHEAD_BYTES = 128;

  private final long maxBytes;
  private final Cache<Key, List<Tensor>> cache;

  private ResponseCache(long maxBytes) {
    this.maxBytes = maxBytes;
    this.cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher(ResponseCache::weigh)
        .executor(Runnable::run)
        .recordStats()
        .build();
  }

  public static ResponseCache ofMaxBytes(long maxBytes) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0)");
    }
    return new ResponseCache(maxBytes);
  }

  private static int weigh(Key key, List<Tensor> outputs) {
    long bytes = OVERHEAD_BYTES;
    for (Tensor output : outputs) {
      bytes += OVERHEAD_BYTES + output.byteSize();
    }
    return (int) Math.min(Integer.MAX_VALUE, bytes);
  }

  /**
   * The key of a request to one load of a model version: {@code generation} tells a version reloaded under the
   * same number from the load before, so no answer of an old load is ever served for a new one (and {@link
   * #invalidate} drops the old load's entries once it is retired).
   */
  public Key key(String model, String version, long generation, List<Tensor> inputs,
      List<RequestedOutput> outputs) {
    MessageDigest digest = sha256();
    for (Tensor input : inputs) {
      digest.update(input.name().getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      digest.update(input.dataType().wireName().getBytes(StandardCharsets.UTF_8));
      ByteBuffer shape = ByteBuffer.allocate(4 + 8 * input.rank());
      shape.putInt(input.rank());
      for (long dim : input.shape()) {
        shape.putLong(dim);
      }
      digest.update(shape.flip());
      digest.update(input.data());
    }
    for (RequestedOutput output : outputs) {
      digest.update((byte) 1);
      digest.update(output.name().getBytes(StandardCharsets.UTF_8));
      digest.update(ByteBuffer.allocate(4).putInt(output.classification()).flip());
    }
    return new Key(model, version, generation, digest.digest());
  }

  public @Nullable List<Tensor> get(Key key) {
    return cache.getIfPresent(key);
  }

  /** Stores compact copies of {@code outputs}, which may be views of request memory freed after this call. */
  public void put(Key key, List<Tensor> outputs) {
    List<Tensor> copies = new ArrayList<>(outputs.size());
    outputs.forEach(output -> copies.add(output.compactCopy()));
    cache.put(key, List.copyOf(copies));
  }

  /** Publishes the cache's size, bytes, hits, misses and evictions to {@code registry}. */
  public void bindTo(MeterRegistry registry) {
    CaffeineCacheMetrics.monitor(registry, cache, "serval_response_cache");
    Gauge.builder("serval.response.cache.bytes", this, ResponseCache::weightedBytes)
        .description("Bytes the response cache holds, as its bound counts them")
        .baseUnit("bytes")
        .register(registry);
  }

  /** Drops every entry of one load of a model, when it is retired (unloaded, or replaced by a reload). */
  public void invalidate(String model, long generation) {
    cache.asMap().keySet().removeIf(key -> key.model.equals(model) && key.generation == generation);
  }

  /** The bytes the cache holds now, as its bound counts them. */
  public long weightedBytes() {
    cache.cleanUp();
    return cache.policy().eviction().map(eviction -> eviction.weightedSize().orElse(0L)).orElse(0L);
  }

  /** The bound. */
  public long maxBytes() {
    return maxBytes;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** A request's identity: model, version, load generation and the digest of its inputs and requested outputs. */
  public static final class Key {
    private final String model;
    private final String version;
    private final long generation;
    private final byte[] digest;

    private Key(String model, String version, long generation, byte[] digest) {
      this.model = model;
      this.version = version;
      this.generation = generation;
      this.digest = digest;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key && ((Key) o).model.equals(model) && ((Key) o).version.equals(version)
          && ((Key) o).generation == generation && Arrays.equals(((Key) o).digest, digest);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(digest);
    }
  }
}
