package io.serval.dag.operators;

import io.serval.core.DataType;
import io.serval.core.InvalidInputException;
import io.serval.core.Shapes;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import java.nio.ByteBuffer;

/**
 * What the image operators share: images are UINT8 tensors [height, width, channels] (HWC, rows top to bottom),
 * checked by their specs at load and again by their tensors on each request.
 */
final class Images {
  private Images() {}

  /** Refuses, at load, a spec that is not UINT8 of rank 3 or has no channels. */
  static void requireSpec(String input, TensorSpec spec) {
    if (spec.dataType() != DataType.UINT8 || spec.rank() != 3 || spec.shape()[2] == 0) {
      throw new IllegalArgumentException("inputs." + input + ": " + spec.dataType().wireName()
          + Shapes.format(spec.shape()) + " (expected: UINT8 [height, width, channels], as image.decode makes)");
    }
  }

  /** Refuses a request's tensor that is not UINT8 [height, width, channels] with at least one pixel. */
  static void require(String input, Tensor tensor) {
    if (tensor.dataType() != DataType.UINT8 || tensor.rank() != 3) {
      throw new InvalidInputException("input '" + input + "': " + tensor.dataType().wireName()
          + Shapes.format(tensor.shape()) + " (expected: UINT8 [height, width, channels])");
    }
    if (tensor.elementCount() == 0) {
      throw new InvalidInputException("input '" + input + "': shape " + Shapes.format(tensor.shape())
          + " has no pixels (expected: height, width and channels of 1 or more)");
    }
  }

  /** The tensor's bytes, copied to the heap. */
  static byte[] bytes(Tensor tensor) {
    ByteBuffer data = tensor.data();
    byte[] bytes = new byte[data.remaining()];
    data.get(bytes);
    return bytes;
  }
}
