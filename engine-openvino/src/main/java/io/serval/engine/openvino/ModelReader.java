package io.serval.engine.openvino;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import io.serval.core.DataType;
import io.serval.core.ModelSignature;
import io.serval.core.Shapes;
import io.serval.core.TensorSpec;
import io.serval.engine.ModelLoadException;
import io.serval.engine.openvino.internal.OvApi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads model files into OpenVINO models ({@code ov_model_t}) and their signatures. */
final class ModelReader {
  /** {@code ov_partial_shape_t}: the rank as an {@code ov_dimension_t} (min, max), then the dimensions' pointer. */
  private static final long PARTIAL_SHAPE_BYTES = 2L * Long.BYTES + Native.POINTER_SIZE;

  private final OpenVinoRuntime runtime;
  private final OvApi api;

  ModelReader(OpenVinoRuntime runtime) {
    this.runtime = runtime;
    this.api = runtime.api;
  }

  /**
   * Reads an ONNX model or an OpenVINO IR ({@code model.xml} with its weights in {@code model.bin} beside it); the
   * caller frees the model with {@code ov_model_free}.
   */
  Pointer read(Path modelFile) throws ModelLoadException {
    if (!Files.isRegularFile(modelFile)) {
      throw new ModelLoadException("model file " + modelFile + " does not exist");
    }
    String weights = "";
    String name = modelFile.getFileName().toString();
    if (name.endsWith(".xml")) {
      Path bin = modelFile.resolveSibling(name.substring(0, name.length() - ".xml".length()) + ".bin");
      if (!Files.isRegularFile(bin)) {
        throw new ModelLoadException(
            "OpenVINO IR " + modelFile + " has no weights: " + bin + " does not exist");
      }
      weights = bin.toString();
    }
    PointerByReference model = new PointerByReference();
    int status = api.ov_core_read_model(runtime.core, modelFile.toString(), weights, model);
    if (status != OvApi.OK) {
      throw new ModelLoadException("openvino cannot read " + modelFile + ": " + runtime.describe(status));
    }
    return model.getValue();
  }

  /** The model's inputs and outputs; dimensions that are not fixed ({@code ?}, {@code 32..}) are -1. */
  ModelSignature signature(Path modelFile, Pointer model) throws ModelLoadException {
    return ModelSignature.of(specs(modelFile, model, true), specs(modelFile, model, false));
  }

  private List<TensorSpec> specs(Path modelFile, Pointer model, boolean inputs) throws ModelLoadException {
    String what = inputs ? "input" : "output";
    LongByReference count = new LongByReference();
    int status = inputs ? api.ov_model_inputs_size(model, count) : api.ov_model_outputs_size(model, count);
    check(status, modelFile, "count the " + what + "s");
    List<TensorSpec> specs = new ArrayList<>();
    for (long i = 0; i < count.getValue(); i++) {
      PointerByReference port = new PointerByReference();
      status =
          inputs
              ? api.ov_model_const_input_by_index(model, i, port)
              : api.ov_model_const_output_by_index(model, i, port);
      check(status, modelFile, "read " + what + " " + i);
      try {
        specs.add(spec(modelFile, what, i, port.getValue()));
      } finally {
        api.ov_output_const_port_free(port.getValue());
      }
    }
    return specs;
  }

  private TensorSpec spec(Path modelFile, String what, long index, Pointer port) throws ModelLoadException {
    PointerByReference nameRef = new PointerByReference();
    check(api.ov_port_get_any_name(port, nameRef), modelFile, "read the name of " + what + " " + index);
    String name = runtime.takeString(nameRef.getValue());
    IntByReference typeRef = new IntByReference();
    check(api.ov_port_get_element_type(port, typeRef), modelFile, "read the type of " + what + " '" + name + "'");
    int code = typeRef.getValue();
    DataType type = ElementTypes.toDataType(code);
    if (type == null) {
      throw new ModelLoadException(
          modelFile + ": " + what + " '" + name + "' has element type " + ElementTypes.name(code)
              + (code == ElementTypes.STRING
                  ? ", which the openvino engine does not support (serve string models with onnxruntime)"
                  : ", which the v2 protocol cannot carry"));
    }
    return TensorSpec.of(name, type, shape(modelFile, what, name, port));
  }

  private long[] shape(Path modelFile, String what, String name, Pointer port) throws ModelLoadException {
    Memory partialShape = new Memory(PARTIAL_SHAPE_BYTES);
    String action = "read the shape of " + what + " '" + name + "'";
    check(api.ov_port_get_partial_shape(port, partialShape), modelFile, action);
    try {
      long minRank = partialShape.getLong(0);
      long maxRank = partialShape.getLong(Long.BYTES);
      if (minRank != maxRank) {
        throw new ModelLoadException(
            modelFile + ": " + what + " '" + name + "' has a dynamic rank, which a signature cannot declare");
      }
      Pointer dims = partialShape.getPointer(2L * Long.BYTES);
      long[] shape = new long[(int) minRank];
      for (int i = 0; i < shape.length; i++) {
        long min = dims.getLong(2L * Long.BYTES * i);
        long max = dims.getLong(2L * Long.BYTES * i + Long.BYTES);
        shape[i] = min == max ? min : Shapes.DYNAMIC;
      }
      return shape;
    } finally {
      api.ov_partial_shape_free(partialShape);
    }
  }

  private void check(int status, Path modelFile, String action) throws ModelLoadException {
    if (status != OvApi.OK) {
      throw new ModelLoadException(
          "openvino cannot " + action + " of " + modelFile + ": " + runtime.describe(status));
    }
  }
}
