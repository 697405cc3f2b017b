package io.serval.engine;

/** Where a model instance runs: the host CPU or one accelerator, by index. */
public final class Device {
  /** The kind of processor. */
  public enum Kind {
    CPU,
    GPU
  }

  private static final Device CPU = new Device(Kind.CPU, 0);

  private final Kind kind;
  private final int index;

  private Device(Kind kind, int index) {
    this.kind = kind;
    this.index = index;
  }

  /** The host CPU. */
  public static Device cpu() {
    return CPU;
  }

  /** Accelerator number {@code index}; throws when it is negative. */
  public static Device gpu(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("gpu index: " + index + " (expected: >= 0)");
    }
    return new Device(Kind.GPU, index);
  }

  public Kind kind() {
    return kind;
  }

  public int index() {
    return index;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Device && ((Device) o).kind == kind && ((Device) o).index == index;
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + index;
  }

  @Override
  public String toString() {
    return kind == Kind.CPU ? "cpu" : "gpu:" + index;
  }
}
