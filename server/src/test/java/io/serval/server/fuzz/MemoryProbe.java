package io.serval.server.fuzz;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * Heap and direct memory of this JVM (where the server under test runs) after garbage collection has settled:
 * heap from the MemoryMXBean, direct memory from the "direct" BufferPoolMXBean (tensors are direct buffers,
 * freed by their cleaners after a collection). Netty's own counter is reported beside them, for information.
 */
record MemoryProbe(long heapUsed, long directUsed, long directBuffers, long nettyDirect) {
  static MemoryProbe settle() {
    long heap = Long.MAX_VALUE;
    for (int i = 0; i < 6; i++) {
      System.gc();
      try {
        Thread.sleep(150); // lets cleaners free the direct buffers the collection found unreachable
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      heap = Math.min(heap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    long direct = 0;
    long buffers = 0;
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) {
        direct = pool.getMemoryUsed();
        buffers = pool.getCount();
      }
    }
    long netty;
    try {
      netty = io.netty.util.internal.PlatformDependent.usedDirectMemory();
    } catch (RuntimeException | LinkageError e) {
      netty = -1;
    }
    return new MemoryProbe(heap, direct, buffers, netty);
  }

  static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }

  @Override
  public String toString() {
    return "heap " + mib(heapUsed) + ", direct " + mib(directUsed) + " in " + directBuffers + " buffers, netty direct "
        + (nettyDirect < 0 ? "n/a" : mib(nettyDirect));
  }
}
