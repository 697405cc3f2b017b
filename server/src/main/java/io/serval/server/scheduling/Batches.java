package io.serval.server.scheduling;

import io.serval.core.DataType;
import io.serval.core.InternalException;
import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Merges requests' tensors along the batch dimension and splits a batch's outputs back by rows. */
final class Batches {
  private Batches() {}

  /** The tensors of each job for one input, concatenated along dimension 0 (their other dims match) in {@code memory}. */
  static Tensor concat(List<Tensor> parts, MemoryScope memory) {
    Tensor first = parts.get(0);
    long rows = 0;
    long bytes = 0;
    for (Tensor part : parts) {
      rows += part.dim(0);
      bytes += part.byteSize();
    }
    ByteBuffer merged = memory.allocate(bytes);
    for (Tensor part : parts) {
      merged.put(part.data());
    }
    merged.flip();
    long[] shape = first.shape();
    shape[0] = rows;
    return Tensor.of(first.name(), first.dataType(), shape, merged);
  }

  /**
   * Splits {@code output} into consecutive slices of {@code rows[i]} rows each (views of its buffer for fixed-size
   * types).
   *
   * @throws InternalException when the output's first dimension is not the batch
   */
  static List<Tensor> split(Tensor output, int[] rows) {
    long total = 0;
    for (int r : rows) {
      total += r;
    }
    if (output.rank() == 0 || output.dim(0) != total) {
      throw new InternalException("output '" + output.name() + "' has shape " + java.util.Arrays.toString(output.shape())
          + " after a batch of " + total + " rows (expected: the batch size first)");
    }
    List<Tensor> slices = new ArrayList<>(rows.length);
    long[] shape = output.shape();
    if (output.dataType() == DataType.BYTES) {
      List<byte[]> elements = output.bytesElements();
      int perRow = (int) (elements.size() / total);
      int at = 0;
      for (int r : rows) {
        shape[0] = r;
        slices.add(Tensor.ofBytes(output.name(), shape, elements.subList(at, at + r * perRow)));
        at += r * perRow;
      }
      return slices;
    }
    ByteBuffer data = output.data();
    int rowBytes = (int) (output.byteSize() / total);
    int offset = 0;
    for (int r : rows) {
      shape[0] = r;
      ByteBuffer slice = data.duplicate();
      slice.position(offset).limit(offset + r * rowBytes);
      slices.add(Tensor.of(output.name(), output.dataType(), shape, slice.slice()));
      offset += r * rowBytes;
    }
    return slices;
  }
}
