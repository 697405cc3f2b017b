package io.serval.core;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The owner of the off-heap memory of one request (or one batch): every buffer it {@linkplain #allocate
 * allocates} is freed at once when its last reference is {@linkplain #release released}, not whenever the garbage
 * collector gets to it. A scope starts with one reference; whoever else must keep its memory alive (a queued job, a
 * request holding slices of a batch's outputs) {@linkplain #retain retains} it and releases it when done.
 *
 * <pre>{@code
 * MemoryScope scope = MemoryScope.open();
 * try {
 *   Tensor x = Tensor.of("x", DataType.FP32, shape, scope.allocate(bytes).put(data).flip());
 *   ...
 * } finally {
 *   scope.release();   // x's memory is freed here; x must not be read afterwards
 * }
 * }</pre>
 *
 * <p>Buffers are freed through the JDK's own cleaner of direct buffers; where that is unavailable they are left
 * to the garbage collector, and {@link #explicitFree()} says so.
 */
public final class MemoryScope {
  private static final AtomicLong LIVE_BYTES = new AtomicLong();
  private static final @Nullable MethodHandle FREE = freeHandle();

  private final AtomicInteger references = new AtomicInteger(1);
  private final List<ByteBuffer> buffers = new ArrayList<>(4);
  private final List<MemoryScope> attached = new ArrayList<>(1);
  private long bytes;

  private MemoryScope() {}

  /** A new scope holding one reference, its opener's. */
  public static MemoryScope open() {
    return new MemoryScope();
  }

  /**
   * A zero-filled little-endian direct buffer of {@code size} bytes that lives until this scope is released.
   *
   * @throws InvalidInputException when {@code size} is over 2 GiB, the limit of one buffer
   * @throws IllegalStateException when the scope has been released
   */
  public ByteBuffer allocate(long size) {
    ByteBuffer buffer = Tensor.allocate(size);
    synchronized (this) {
      if (references.get() <= 0) {
        throw new IllegalStateException("allocating in a released memory scope");
      }
      buffers.add(buffer);
      bytes += size;
    }
    LIVE_BYTES.addAndGet(size);
    return buffer;
  }

  /**
   * Keeps {@code other} alive as long as this scope: it is retained now and released when this scope is freed.
   * A request that holds slices of its batch's outputs attaches the batch's scope this way.
   */
  public void attach(MemoryScope other) {
    other.retain();
    synchronized (this) {
      if (references.get() <= 0) {
        other.release();
        throw new IllegalStateException("attaching to a released memory scope");
      }
      attached.add(other);
    }
  }

  /** Adds a reference; each must be matched by one {@link #release}. */
  public MemoryScope retain() {
    int before = references.getAndIncrement();
    if (before <= 0) {
      references.getAndDecrement();
      throw new IllegalStateException("retaining a released memory scope");
    }
    return this;
  }

  /** Drops a reference; the last one frees every buffer of the scope and releases the scopes attached to it. */
  public void release() {
    int left = references.decrementAndGet();
    if (left > 0) {
      return;
    }
    if (left < 0) {
      throw new IllegalStateException("memory scope released more often than retained");
    }
    List<ByteBuffer> freed;
    List<MemoryScope> detached;
    long size;
    synchronized (this) {
      freed = new ArrayList<>(buffers);
      detached = new ArrayList<>(attached);
      size = bytes;
      buffers.clear();
      attached.clear();
      bytes = 0;
    }
    freed.forEach(MemoryScope::free);
    LIVE_BYTES.addAndGet(-size);
    detached.forEach(MemoryScope::release);
  }

  /** Whether the last reference has been released. */
  public boolean isReleased() {
    return references.get() <= 0;
  }

  /** The bytes this scope holds now. */
  public synchronized long allocatedBytes() {
    return bytes;
  }

  /** The bytes held by every scope of the process that has not been released yet. */
  public static long liveBytes() {
    return LIVE_BYTES.get();
  }

  /** Whether released buffers are freed at once (true on every JDK this runs on, 17 and later). */
  public static boolean explicitFree() {
    return FREE != null;
  }

  private static void free(ByteBuffer buffer) {
    if (FREE == null) {
      return;
    }
    try {
      FREE.invokeExact(buffer);
    } catch (Throwable e) {
      throw new IllegalStateException("freeing a direct buffer failed", e);
    }
  }

  /** {@code sun.misc.Unsafe.invokeCleaner}, the supported way (module jdk.unsupported) to free a direct buffer. */
  private static @Nullable MethodHandle freeHandle() {
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field field = unsafeClass.getDeclaredField("theUnsafe");
      field.setAccessible(true);
      Object unsafe = field.get(null);
      MethodHandle cleaner = MethodHandles.lookup()
          .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
          .bindTo(unsafe);
      // Prove it works once, so a failure shows at class load rather than on a request.
      cleaner.invokeExact(ByteBuffer.allocateDirect(1).order(ByteOrder.LITTLE_ENDIAN));
      return cleaner;
    } catch (Throwable e) {
      return null;
    }
  }
}
