package io.serval.dag.operators;

import io.serval.core.DataType;
import io.serval.core.InvalidInputException;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.dag.NodeContext;
import io.serval.dag.NodeParameters;
import io.serval.dag.Operator;
import io.serval.dag.OperatorFactory;
import io.serval.dag.ServableResolver;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: argmax}: input {@code x} (any integer or floating-point datatype, rank 1 or more), output {@code
 * index} (INT64, the shape of {@code x} without its last axis): the position of the largest value along the last
 * axis. Ties go to the lower index; NaN counts as larger than every number, the first NaN winning (as in NumPy and
 * PyTorch). Integers compare exactly, UINT64 unsigned. Refused: BOOL and BYTES, and an empty last axis (at load
 * when it is known, else per request).
 */
public final class ArgmaxOperator implements Operator {
  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "argmax";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of());
      return new ArgmaxOperator();
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("x");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec x = inputs.get("x");
    long[] shape = x.shape();
    if (!numeric(x.dataType()) || shape.length == 0 || shape[shape.length - 1] == 0) {
      throw new IllegalArgumentException("inputs.x: " + x.dataType().wireName() + Shapes.format(shape)
          + " (expected: an integer or floating-point datatype, rank 1 or more, a last axis of 1 or more)");
    }
    return List.of(TensorSpec.of("index", DataType.INT64, Arrays.copyOf(shape, shape.length - 1)));
  }

  private static boolean numeric(DataType type) {
    return type != DataType.BOOL && type != DataType.BYTES;
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor x = inputs.get("x");
    long[] shape = x.shape();
    if (!numeric(x.dataType()) || shape.length == 0 || shape[shape.length - 1] == 0) {
      throw new InvalidInputException("input 'x': " + x.dataType().wireName() + Shapes.format(shape)
          + " (expected: an integer or floating-point datatype, rank 1 or more, a last axis of 1 or more)");
    }
    DataType type = x.dataType();
    int width = (int) shape[shape.length - 1];
    int rows = (int) (x.elementCount() / width);
    ByteBuffer data = x.data();
    ByteBuffer out = context.memory().allocate((long) rows * Long.BYTES);
    boolean floating = type == DataType.FP16 || type == DataType.BF16 || type == DataType.FP32
        || type == DataType.FP64;
    for (int r = 0; r < rows; r++) {
      int start = r * width;
      int best = 0;
      if (floating) {
        double max = real(x, data, type, start);
        for (int i = 1; i < width && !Double.isNaN(max); i++) {
          double value = real(x, data, type, start + i);
          if (value > max || Double.isNaN(value)) {
            max = value;
            best = i;
          }
        }
      } else {
        long max = integer(data, type, start);
        for (int i = 1; i < width; i++) {
          long value = integer(data, type, start + i);
          if (value > max) {
            max = value;
            best = i;
          }
        }
      }
      out.putLong(r * Long.BYTES, best);
    }
    return CompletableFuture.completedFuture(
        List.of(Tensor.of("index", DataType.INT64, Arrays.copyOf(shape, shape.length - 1), out)));
  }

  private static double real(Tensor x, ByteBuffer data, DataType type, int index) {
    return switch (type) {
      case FP16 -> x.numberAt(index).doubleValue();
      case BF16 -> Float.intBitsToFloat(data.getShort(index * 2) << 16);
      case FP32 -> data.getFloat(index * 4);
      default -> data.getDouble(index * 8);
    };
  }

  /** The value as a long that orders like it (UINT64 with its sign bit flipped). */
  private static long integer(ByteBuffer data, DataType type, int index) {
    return switch (type) {
      case INT8 -> data.get(index);
      case UINT8 -> Byte.toUnsignedInt(data.get(index));
      case INT16 -> data.getShort(index * 2);
      case UINT16 -> Short.toUnsignedInt(data.getShort(index * 2));
      case INT32 -> data.getInt(index * 4);
      case UINT32 -> Integer.toUnsignedLong(data.getInt(index * 4));
      case INT64 -> data.getLong(index * 8);
      default -> data.getLong(index * 8) ^ Long.MIN_VALUE;
    };
  }
}
