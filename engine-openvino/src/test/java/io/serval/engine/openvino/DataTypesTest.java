package io.serval.engine.openvino;

import static org.assertj.core.api.Assertions.assertThat;

import io.serval.core.DataType;
import io.serval.core.MemoryScope;
import io.serval.core.ModelSignature;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.engine.Device;
import io.serval.engine.InstanceSpec;
import io.serval.engine.ModelInstance;
import io.serval.engine.RunContext;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every v2 type OpenVINO has goes in and out unchanged, through an IR whose outputs are its inputs. */
class DataTypesTest {
  /** The v2 types and OpenVINO's names of them: element type, then port precision. */
  private static final Map<DataType, String[]> TYPES = new LinkedHashMap<>();

  static {
    TYPES.put(DataType.BOOL, new String[] {"boolean", "BOOL"});
    TYPES.put(DataType.UINT8, new String[] {"u8", "U8"});
    TYPES.put(DataType.UINT16, new String[] {"u16", "U16"});
    TYPES.put(DataType.UINT32, new String[] {"u32", "U32"});
    TYPES.put(DataType.UINT64, new String[] {"u64", "U64"});
    TYPES.put(DataType.INT8, new String[] {"i8", "I8"});
    TYPES.put(DataType.INT16, new String[] {"i16", "I16"});
    TYPES.put(DataType.INT32, new String[] {"i32", "I32"});
    TYPES.put(DataType.INT64, new String[] {"i64", "I64"});
    TYPES.put(DataType.FP16, new String[] {"f16", "FP16"});
    TYPES.put(DataType.FP32, new String[] {"f32", "FP32"});
    TYPES.put(DataType.FP64, new String[] {"f64", "FP64"});
    TYPES.put(DataType.BF16, new String[] {"bf16", "BF16"});
  }

  /** 0 to 5 as IEEE half floats. */
  private static final short[] HALF = {0x0000, 0x3C00, 0x4000, 0x4200, 0x4400, 0x4500};

  private static OpenVinoEngine engine;

  @BeforeAll
  static void createEngine() throws Exception {
    engine = TestVenv.startedEngine();
  }

  @AfterAll
  static void closeEngine() {
    engine.close();
  }

  @Test
  void everyTypeOpenVinoHasGoesThroughUnchanged(@TempDir Path dir) throws Exception {
    Path xml = Files.writeString(dir.resolve("model.xml"), identityIr());
    Files.write(dir.resolve("model.bin"), new byte[0]);
    List<Tensor> inputs = new ArrayList<>();
    List<TensorSpec> specs = new ArrayList<>();
    for (DataType type : TYPES.keySet()) {
      inputs.add(Tensor.of(name(type), type, new long[] {2, 3}, zeroToFive(type)));
      specs.add(TensorSpec.of(name(type), type, 2, -1));
    }
    List<String> names = inputs.stream().map(Tensor::name).toList();

    ModelSignature signature = engine.inspect(xml);
    assertThat(signature.inputs()).containsExactlyElementsOf(specs);
    assertThat(signature.outputs()).containsExactlyElementsOf(specs);
    MemoryScope scope = MemoryScope.open();
    try (ModelInstance instance = engine.open(InstanceSpec.of("types", 1, xml, Device.cpu(), 0, Map.of()))) {
      List<Tensor> outputs = instance.run(inputs, names, RunContext.of(scope)).outputs();

      for (int i = 0; i < inputs.size(); i++) {
        Tensor input = inputs.get(i);
        Tensor output = outputs.get(i);
        assertThat(output.dataType()).as(input.name()).isEqualTo(input.dataType());
        assertThat(output.shape()).as(input.name()).containsExactly(2, 3);
        assertThat(output.data()).as(input.name()).isEqualTo(input.data());
      }
    } finally {
      scope.release();
    }
  }

  private static String name(DataType type) {
    return "x_" + type.wireName().toLowerCase(java.util.Locale.ROOT);
  }

  private static ByteBuffer zeroToFive(DataType type) {
    ByteBuffer data = Tensor.allocate(6L * type.byteSize());
    for (int value = 0; value < 6; value++) {
      switch (type) {
        case BOOL:
          data.put((byte) (value % 2));
          break;
        case UINT8:
        case INT8:
          data.put((byte) value);
          break;
        case UINT16:
        case INT16:
          data.putShort((short) value);
          break;
        case UINT32:
        case INT32:
          data.putInt(value);
          break;
        case UINT64:
        case INT64:
          data.putLong(value);
          break;
        case FP16:
          data.putShort(HALF[value]);
          break;
        case BF16:
          data.putShort((short) (Float.floatToIntBits(value) >>> 16));
          break;
        case FP32:
          data.putFloat(value);
          break;
        case FP64:
          data.putDouble(value);
          break;
        default:
          throw new IllegalArgumentException(type.toString());
      }
    }
    return data.flip();
  }

  /** One Parameter of shape [2, ?] per type, each straight into a Result that keeps its tensor name. */
  private static String identityIr() {
    StringBuilder layers = new StringBuilder();
    StringBuilder edges = new StringBuilder();
    int id = 0;
    for (Map.Entry<DataType, String[]> type : TYPES.entrySet()) {
      String name = name(type.getKey());
      String elementType = type.getValue()[0];
      String precision = type.getValue()[1];
      String dims = "<dim>2</dim><dim>-1</dim>";
      layers
          .append("<layer id=\"").append(id).append("\" name=\"").append(name)
          .append("\" type=\"Parameter\" version=\"opset1\"><data shape=\"2,?\" element_type=\"")
          .append(elementType).append("\" /><output><port id=\"0\" precision=\"").append(precision)
          .append("\" names=\"").append(name).append("\">").append(dims).append("</port></output></layer>\n")
          .append("<layer id=\"").append(id + 1).append("\" name=\"").append(name)
          .append("_result\" type=\"Result\" version=\"opset1\"><input><port id=\"0\" precision=\"")
          .append(precision).append("\">").append(dims).append("</port></input></layer>\n");
      edges
          .append("<edge from-layer=\"").append(id).append("\" from-port=\"0\" to-layer=\"").append(id + 1)
          .append("\" to-port=\"0\" />\n");
      id += 2;
    }
    return "<?xml version=\"1.0\"?>\n<net name=\"types\" version=\"11\">\n<layers>\n" + layers
        + "</layers>\n<edges>\n" + edges + "</edges>\n</net>\n";
  }
}
