package io.serval.server.inference;

import io.serval.core.DataType;
import io.serval.core.Tensor;
import io.serval.core.UnsupportedFeatureException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

/**
 * The v2 classification extension: turns an output of class scores into the top {@code k} classes of each batch
 * row, as BYTES elements {@code "<value>:<index>[:<label>]"}, highest value first; any numeric output type. The value is printed with six
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
    if (scores.dataType() == DataType.BYTES) {
      throw new UnsupportedFeatureException(
          "output '" + scores.name() + "' is BYTES; classification needs numeric scores");
    }
    long rows = batched && scores.rank() > 0 ? scores.dim(0) : 1;
    long total = scores.elementCount();
    int classes = rows == 0 ? 0 : (int) (total / rows);
    int count = Math.min(k, classes);
    List<String> elements = new ArrayList<>();
    for (long row = 0; row < rows; row++) {
      long base = row * classes;
      double[] values = new double[classes];
      for (int c = 0; c < classes; c++) {
        values[c] = scores.numberAt(base + c).doubleValue();
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
}
