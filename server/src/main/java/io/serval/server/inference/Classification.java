package io.serval.server.inference;

import io.serval.engine.DataType;
import io.serval.engine.Tensor;
import io.serval.engine.UnsupportedFeatureException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * The v2 classification extension: turns an output of class scores into the top {@code k} classes of each batch
 * row, as BYTES elements {@code "<value>:<index>[:<label>]"}, highest value first. The value is printed with six
 * decimals, as Triton prints it.
 */
final class Classification {
  private Classification() {}

  /**
   * Classifies {@code scores}.
   *
   * @param batched whether the first dimension is the batch; each row is classified separately
   * @param labels the labels of the classes by index; may be shorter than the class count
   */
  static Tensor topK(Tensor scores, int k, boolean batched, List<String> labels) {
    if (scores.dataType() == DataType.BYTES || scores.dataType() == DataType.FP16
        || scores.dataType() == DataType.BF16) {
      throw new UnsupportedFeatureException("output '" + scores.name() + "' is " + scores.dataType().wireName()
          + "; classification is supported for BOOL, integer, FP32 and FP64 outputs");
    }
    long rows = batched && scores.rank() > 0 ? scores.dim(0) : 1;
    long total = scores.elementCount();
    int classes = rows == 0 ? 0 : (int) (total / rows);
    int count = Math.min(k, classes);
    ByteBuffer data = scores.data();
    List<String> elements = new ArrayList<>();
    for (long row = 0; row < rows; row++) {
      long base = row * classes;
      double[] values = new double[classes];
      for (int c = 0; c < classes; c++) {
        values[c] = valueAt(scores.dataType(), data, base + c);
      }
      IntStream.range(0, classes)
          .boxed()
          .sorted(Comparator.comparingDouble((Integer c) -> values[c]).reversed())
          .limit(count)
          .forEach(c -> elements.add(format(values[c], c, labels)));
    }
    long[] shape = batched && scores.rank() > 0 ? new long[] {rows, count} : new long[] {count};
    return Tensor.ofStrings(scores.name(), shape, elements);
  }

  private static String format(double value, int index, List<String> labels) {
    String text = String.format(Locale.ROOT, "%f:%d", value, index);
    return index < labels.size() ? text + ":" + labels.get(index) : text;
  }

  private static double valueAt(DataType type, ByteBuffer data, long index) {
    int at = (int) (index * type.byteSize());
    switch (type) {
      case BOOL:
      case UINT8:
        return Byte.toUnsignedInt(data.get(at));
      case INT8:
        return data.get(at);
      case UINT16:
        return Short.toUnsignedInt(data.getShort(at));
      case INT16:
        return data.getShort(at);
      case UINT32:
        return Integer.toUnsignedLong(data.getInt(at));
      case INT32:
        return data.getInt(at);
      case UINT64:
        long unsigned = data.getLong(at);
        return unsigned >= 0 ? unsigned : (unsigned >>> 1) * 2.0;
      case INT64:
        return data.getLong(at);
      case FP32:
        return data.getFloat(at);
      case FP64:
        return data.getDouble(at);
      default:
        throw new IllegalArgumentException(type.wireName());
    }
  }
}
