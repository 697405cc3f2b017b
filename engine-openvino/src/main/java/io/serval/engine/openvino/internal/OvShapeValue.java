package io.serval.engine.openvino.internal;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;

/**
 * {@code ov_shape_t} passed by value: a rank and a pointer to that many {@code int64_t} dimensions. The
 * dimensions live in memory this object owns, so it must stay reachable until the call that takes it returns.
 */
@Structure.FieldOrder({"rank", "dims"})
public final class OvShapeValue extends Structure implements Structure.ByValue {
  /** The number of dimensions. */
  public long rank;
  /** The dimensions, {@code rank} {@code int64_t}s. */
  public Pointer dims;

  /** A shape of the given dimensions. */
  public OvShapeValue(long[] shape) {
    Memory memory = new Memory(Math.max(1, shape.length) * (long) Long.BYTES);
    memory.write(0, shape, 0, shape.length);
    this.rank = shape.length;
    this.dims = memory;
    write();
  }
}
