package io.serval.engine.tensorrt;

import static org.bytedeco.cuda.global.cudart.cudaSetDevice;

import io.serval.core.DataType;
import io.serval.core.ModelSignature;
import io.serval.core.Shapes;
import io.serval.core.TensorSpec;
import io.serval.engine.ModelLoadException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvinfer.BuilderFlag;
import org.bytedeco.tensorrt.global.nvinfer.MemoryPoolType;
import org.bytedeco.tensorrt.global.nvinfer.OptProfileSelector;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

/**
 * Reads an ONNX model with TensorRT's ONNX parser and builds a serialized plan from it: the workspace limit, TF32 as
 * the settings say, and one optimization profile.
 *
 * <pre>{@code
 * ModelSignature signature = PlanBuilder.signatureOf(onnx, device);
 * ByteBuffer plan = PlanBuilder.build(onnx, device, settings, OptimizationProfiles.derive(signature.inputs(), settings));
 * }</pre>
 */
final class PlanBuilder {
  private PlanBuilder() {}

  /** The model's inputs and outputs as TensorRT's parser reads them, {@code -1} for dynamic dimensions. */
  static ModelSignature signatureOf(Path onnx, int device) throws ModelLoadException {
    try (Parsed parsed = Parsed.of(onnx, device)) {
      return parsed.signature();
    }
  }

  /** Builds the plan; the returned buffer is a copy the caller owns. */
  static ByteBuffer build(Path onnx, int device, TensorRtSettings settings, List<ShapeRange> profile)
      throws ModelLoadException {
    try (Parsed parsed = Parsed.of(onnx, device);
        IBuilderConfig config = parsed.builder.createBuilderConfig()) {
      config.setMemoryPoolLimit(MemoryPoolType.kWORKSPACE, settings.workspaceBytes());
      if (settings.precision() == Precision.TF32) {
        config.setFlag(BuilderFlag.kTF32);
      } else {
        config.clearFlag(BuilderFlag.kTF32);
      }
      if (!profile.isEmpty()) {
        IOptimizationProfile optimization = parsed.builder.createOptimizationProfile();
        for (ShapeRange range : profile) {
          boolean set = optimization.setDimensions(range.input(), OptProfileSelector.kMIN, dims(range.min()))
              && optimization.setDimensions(range.input(), OptProfileSelector.kOPT, dims(range.opt()))
              && optimization.setDimensions(range.input(), OptProfileSelector.kMAX, dims(range.max()));
          if (!set) {
            throw new ModelLoadException(onnx + ": TensorRT refused the profile " + range
                + TensorRtLogger.INSTANCE.suffix());
          }
        }
        if (!optimization.isValid() || config.addOptimizationProfile(optimization) < 0) {
          throw new ModelLoadException(onnx + ": TensorRT refused the optimization profile "
              + OptimizationProfiles.canonical(profile) + TensorRtLogger.INSTANCE.suffix());
        }
      }
      try (IHostMemory plan = parsed.builder.buildSerializedNetwork(parsed.network, config)) {
        if (plan == null || plan.isNull()) {
          throw new ModelLoadException(onnx + ": TensorRT could not build a plan with "
              + settings.canonicalFlags() + ";profile=" + OptimizationProfiles.canonical(profile)
              + TensorRtLogger.INSTANCE.suffix());
        }
        if (plan.size() > Integer.MAX_VALUE) {
          throw new ModelLoadException(onnx + ": the plan has " + plan.size() + " bytes, more than the 2 GiB a"
              + " cached plan may have");
        }
        ByteBuffer view = new BytePointer(plan.data()).capacity(plan.size()).limit(plan.size()).asByteBuffer();
        ByteBuffer copy = ByteBuffer.allocateDirect((int) plan.size());
        copy.put(view).flip();
        return copy;
      }
    }
  }

  static Dims64 dims(long[] shape) {
    Dims64 dims = new Dims64();
    dims.nbDims(shape.length);
    for (int i = 0; i < shape.length; i++) {
      dims.d(i, shape[i]);
    }
    return dims;
  }

  static long[] shapeOf(Dims64 dims) {
    long[] shape = new long[dims.nbDims()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.d(i);
    }
    return shape;
  }

  /** A builder with the parsed network; closing it releases all three. */
  private static final class Parsed implements AutoCloseable {
    final Path onnx;
    final IBuilder builder;
    final INetworkDefinition network;
    final IParser parser;

    private Parsed(Path onnx, IBuilder builder, INetworkDefinition network, IParser parser) {
      this.onnx = onnx;
      this.builder = builder;
      this.network = network;
      this.parser = parser;
    }

    static Parsed of(Path onnx, int device) throws ModelLoadException {
      Cuda.check(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
      IBuilder builder = nvinfer.createInferBuilder(TensorRtLogger.INSTANCE);
      if (builder == null || builder.isNull()) {
        throw new ModelLoadException(onnx + ": TensorRT could not create a builder" + TensorRtLogger.INSTANCE.suffix());
      }
      // No flags: every TensorRT 11 network is strongly typed (its kSTRONGLY_TYPED flag is deprecated and ignored).
      INetworkDefinition network = builder.createNetworkV2(0);
      IParser parser = nvonnxparser.createParser(network, TensorRtLogger.INSTANCE);
      Parsed parsed = new Parsed(onnx, builder, network, parser);
      if (!parser.parseFromFile(onnx.toString(), ILogger.Severity.kWARNING.value)) {
        String errors = parsed.errors();
        parsed.close();
        throw new ModelLoadException(onnx + ": TensorRT's ONNX parser rejected the model: " + errors);
      }
      return parsed;
    }

    private String errors() {
      List<String> errors = new ArrayList<>();
      for (int i = 0; i < parser.getNbErrors(); i++) {
        IParserError error = parser.getError(i);
        String node = error.nodeName() == null || error.nodeName().isEmpty() ? "" : " at node '" + error.nodeName()
            + "' (" + error.nodeOperator() + ")";
        errors.add(error.desc() + node);
      }
      return errors.isEmpty() ? "no reason given" + TensorRtLogger.INSTANCE.suffix() : String.join("; ", errors);
    }

    ModelSignature signature() throws ModelLoadException {
      List<TensorSpec> inputs = new ArrayList<>();
      for (int i = 0; i < network.getNbInputs(); i++) {
        inputs.add(spec("input", network.getInput(i)));
      }
      List<TensorSpec> outputs = new ArrayList<>();
      for (int i = 0; i < network.getNbOutputs(); i++) {
        outputs.add(spec("output", network.getOutput(i)));
      }
      return ModelSignature.of(inputs, outputs);
    }

    private TensorSpec spec(String what, ITensor tensor) throws ModelLoadException {
      DataType type = TensorRtTypes.toDataType(tensor.getType());
      if (type == null) {
        throw new ModelLoadException(onnx + ": " + what + " '" + tensor.getName() + "' has TensorRT type "
            + tensor.getType() + ", which the v2 protocol cannot carry");
      }
      if (tensor.isShapeTensor()) {
        throw new ModelLoadException(onnx + ": " + what + " '" + tensor.getName() + "' is a shape tensor, which this"
            + " engine does not feed");
      }
      long[] shape = shapeOf(tensor.getDimensions());
      for (int d = 0; d < shape.length; d++) {
        shape[d] = Math.max(shape[d], Shapes.DYNAMIC);
      }
      return TensorSpec.of(tensor.getName(), type, shape);
    }

    @Override
    public void close() {
      parser.close();
      network.close();
      builder.close();
    }
  }
}
