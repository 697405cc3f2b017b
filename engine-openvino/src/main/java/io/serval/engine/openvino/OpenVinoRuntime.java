package io.serval.engine.openvino;

import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import io.serval.engine.openvino.internal.OvApi;
import io.serval.engine.openvino.internal.OvShapeValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The OpenVINO C library loaded into this process, with the one {@code ov_core} every engine shares. OpenVINO's
 * core is thread-safe and caches its device plugins, so one per process suffices; it is never freed, because
 * compiled models of closed engines may still be in use and because freeing a core clears the process-wide error
 * message. Two different runtimes in one process would clash over their symbols, so a second library path is
 * refused.
 */
final class OpenVinoRuntime {
  /** The one device this engine compiles for. */
  static final String DEVICE = "CPU";
  private static @Nullable OpenVinoRuntime loaded;

  final Path library;
  final OvApi api;
  final Pointer core;
  /** OpenVINO's build number, {@code 2026.4.1-22982-...}. */
  final String version;
  /** The CPU as the plugin names it. */
  final String cpuName;
  final PropertyKeys keys;
  /** Stands in for the data of an empty input, since OpenVINO refuses a null host pointer. */
  final Pointer emptyHostBuffer = new Memory(Long.BYTES);

  private OpenVinoRuntime(
      Path library, OvApi api, Pointer core, String version, String cpuName, PropertyKeys keys) {
    this.library = library;
    this.api = api;
    this.core = core;
    this.version = version;
    this.cpuName = cpuName;
    this.keys = keys;
  }

  /**
   * The runtime of {@code library} ({@code libopenvino_c}), loaded on first use.
   *
   * @throws IllegalStateException when the library cannot serve this engine, saying why
   * @throws LinkageError when the library or its dependencies cannot be loaded
   */
  static synchronized OpenVinoRuntime load(Path library) {
    if (loaded != null) {
      if (!loaded.library.equals(library)) {
        throw new IllegalStateException(
            "OpenVINO is already loaded from " + loaded.library + " in this process (one runtime per process)");
      }
      return loaded;
    }
    if (Native.SIZE_T_SIZE != Long.BYTES) {
      throw new IllegalStateException("the OpenVINO engine needs a 64-bit JVM");
    }
    Map<String, ?> options = Map.of(Library.OPTION_STRING_ENCODING, StandardCharsets.UTF_8.name());
    OvApi api = Native.load(library.toString(), OvApi.class, options);
    PropertyKeys keys = new PropertyKeys(NativeLibrary.getInstance(library.toString(), options));
    String version = version(api);
    PointerByReference coreRef = new PointerByReference();
    int status = api.ov_core_create(coreRef);
    if (status != OvApi.OK) {
      throw new IllegalStateException("OpenVINO " + version + " cannot create its core: " + describe(api, status));
    }
    Pointer core = coreRef.getValue();
    try {
      checkElementTypeNumbering(api, version);
      String cpuName = cpuName(api, core, keys, version);
      loaded = new OpenVinoRuntime(library, api, core, version, cpuName, keys);
      return loaded;
    } catch (RuntimeException | Error e) {
      api.ov_core_free(core);
      throw e;
    }
  }

  /** The message of a failed call: OpenVINO's own, without its source-location lines, or the status's meaning. */
  String describe(int status) {
    return describe(api, status);
  }

  /** A string OpenVINO allocated for the caller, read and freed. */
  String takeString(Pointer string) {
    return takeString(api, string);
  }

  private static String takeString(OvApi api, Pointer string) {
    try {
      return string.getString(0, StandardCharsets.UTF_8.name());
    } finally {
      api.ov_free(string);
    }
  }

  /**
   * OpenVINO keeps one last error message for the whole process, not one per thread: when two calls fail at the
   * same moment, one of them may report the other's message. Calls rejected as invalid parameters set none, so
   * theirs is never read.
   */
  private static String describe(OvApi api, int status) {
    String info = api.ov_get_error_info(status) + " (status " + status + ")";
    if (status == OvApi.INVALID_C_PARAM) {
      return info;
    }
    Pointer message = api.ov_get_last_err_msg();
    if (message == null) {
      return info;
    }
    String text = takeString(api, message);
    List<String> lines = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isBlank() && !line.startsWith("Exception from ")) {
        lines.add(line.strip());
      }
    }
    return lines.isEmpty() ? info : String.join(" ", lines);
  }

  private static String version(OvApi api) {
    Memory version = new Memory(2L * Native.POINTER_SIZE);
    int status = api.ov_get_openvino_version(version);
    if (status != OvApi.OK) {
      throw new IllegalStateException("OpenVINO cannot tell its version: " + describe(api, status));
    }
    try {
      return version.getPointer(0).getString(0, StandardCharsets.UTF_8.name());
    } finally {
      api.ov_version_free(version);
    }
  }

  /**
   * Older releases numbered {@code ov_element_type_e} from an {@code UNDEFINED} that 2026.4 no longer has, which
   * would shift every type by one. A 1-element tensor of code {@link ElementTypes#F32} is 4 bytes under the
   * numbering this engine speaks and 2 (f16) under the old one.
   */
  private static void checkElementTypeNumbering(OvApi api, String version) {
    PointerByReference tensor = new PointerByReference();
    int status = api.ov_tensor_create(ElementTypes.F32, new OvShapeValue(new long[] {1}), tensor);
    if (status != OvApi.OK) {
      throw new IllegalStateException("OpenVINO " + version + " cannot create a tensor: " + describe(api, status));
    }
    LongByReference bytes = new LongByReference();
    try {
      status = api.ov_tensor_get_byte_size(tensor.getValue(), bytes);
    } finally {
      api.ov_tensor_free(tensor.getValue());
    }
    if (status != OvApi.OK || bytes.getValue() != Float.BYTES) {
      throw new IllegalStateException(
          "OpenVINO " + version + " numbers its element types differently (f32 tensor of 1 element: "
              + bytes.getValue() + " bytes) than 2026.4, which the OpenVINO engine was built against");
    }
  }

  private static String cpuName(OvApi api, Pointer core, PropertyKeys keys, String version) {
    PointerByReference name = new PointerByReference();
    int status = api.ov_core_get_property(core, DEVICE, keys.deviceFullName, name);
    if (status != OvApi.OK) {
      throw new IllegalStateException(
          "OpenVINO " + version + " has no usable CPU plugin beside it: " + describe(api, status));
    }
    return takeString(api, name.getValue());
  }

  /** The property names, as the library itself spells them ({@code ov_property_key_*} in {@code ov_property.h}). */
  static final class PropertyKeys {
    final String deviceFullName;
    final String performanceHint;
    final String inferenceNumThreads;
    final String numStreams;
    final String inferencePrecision;
    final String cpuPinning;

    PropertyKeys(NativeLibrary library) {
      deviceFullName = key(library, "ov_property_key_device_full_name");
      performanceHint = key(library, "ov_property_key_hint_performance_mode");
      inferenceNumThreads = key(library, "ov_property_key_inference_num_threads");
      numStreams = key(library, "ov_property_key_num_streams");
      inferencePrecision = key(library, "ov_property_key_hint_inference_precision");
      cpuPinning = key(library, "ov_property_key_hint_enable_cpu_pinning");
    }

    private static String key(NativeLibrary library, String symbol) {
      return library.getGlobalVariableAddress(symbol).getPointer(0).getString(0, StandardCharsets.UTF_8.name());
    }
  }
}
