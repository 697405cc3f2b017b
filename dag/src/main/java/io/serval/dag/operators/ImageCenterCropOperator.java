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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code op: image.center_crop}, {@code params: {width, height}} (1 to 65535): input {@code pixels} (UINT8
 * [height, width, channels]), output {@code pixels} (UINT8 [height, width, C] of the params): the centered
 * window, starting at row {@code (inHeight - height) / 2} and column {@code (inWidth - width) / 2}, rounded down
 * (an odd margin leaves its extra row or column at the bottom or right).
 *
 * <p>A crop larger than the image is refused: at load when the input's sizes are known, else per request as
 * invalid input naming both sizes.
 */
public final class ImageCenterCropOperator implements Operator {
  private final int width;
  private final int height;

  private ImageCenterCropOperator(int width, int height) {
    this.width = width;
    this.height = height;
  }

  /** The factory ServiceLoader finds. */
  public static final class Factory implements OperatorFactory {
    @Override
    public String type() {
      return "image.center_crop";
    }

    @Override
    public Operator create(NodeParameters parameters, ServableResolver servables) {
      parameters.rejectUnknown(List.of("width", "height"));
      return new ImageCenterCropOperator(parameters.integer("width", 1, ImageResizeOperator.MAX_SIDE),
          parameters.integer("height", 1, ImageResizeOperator.MAX_SIDE));
    }
  }

  @Override
  public List<String> inputNames() {
    return List.of("pixels");
  }

  @Override
  public List<TensorSpec> outputs(Map<String, TensorSpec> inputs) {
    TensorSpec pixels = inputs.get("pixels");
    Images.requireSpec("pixels", pixels);
    long[] shape = pixels.shape();
    if (shape[0] >= 0 && shape[0] < height) {
      throw new IllegalArgumentException("inputs.pixels: shape " + Shapes.format(shape) + ": height " + shape[0]
          + " is smaller than the crop's (params.height: " + height + ")");
    }
    if (shape[1] >= 0 && shape[1] < width) {
      throw new IllegalArgumentException("inputs.pixels: shape " + Shapes.format(shape) + ": width " + shape[1]
          + " is smaller than the crop's (params.width: " + width + ")");
    }
    return List.of(TensorSpec.of("pixels", DataType.UINT8, height, width, shape[2]));
  }

  @Override
  public CompletableFuture<List<Tensor>> run(Map<String, Tensor> inputs, NodeContext context) {
    Tensor pixels = inputs.get("pixels");
    Images.require("pixels", pixels);
    int inHeight = (int) pixels.dim(0);
    int inWidth = (int) pixels.dim(1);
    int channels = (int) pixels.dim(2);
    if (inHeight < height || inWidth < width) {
      throw new InvalidInputException("input 'pixels': an image of " + inWidth + " x " + inHeight
          + " (width x height) is smaller than the crop, " + width + " x " + height);
    }
    int top = (inHeight - height) / 2;
    int left = (inWidth - width) / 2;
    ByteBuffer in = pixels.data();
    ByteBuffer out = context.memory().allocate((long) height * width * channels);
    int rowBytes = width * channels;
    for (int y = 0; y < height; y++) {
      int from = ((top + y) * inWidth + left) * channels;
      out.put(y * rowBytes, in, from, rowBytes);
    }
    return CompletableFuture.completedFuture(
        List.of(Tensor.of("pixels", DataType.UINT8, new long[] {height, width, channels}, out)));
  }
}
