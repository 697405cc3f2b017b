package io.serval.engine.openvino.internal;

import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The functions of {@code libopenvino_c} that the engine calls, by their C names. Every {@code int} result is an
 * {@code ov_status_e}: {@link #OK} or a negative code, with the message in {@link #ov_get_last_err_msg()}. A
 * {@code size_t} is a Java {@code long} (the engine runs only where {@code size_t} has 64 bits); an {@code
 * ov_element_type_e} is an {@code int}; out-parameters of struct type ({@code ov_shape_t}: 16 bytes, {@code
 * ov_partial_shape_t}: 24 bytes) are plain native memory of that size.
 */
public interface OvApi extends Library {
  /** The status of a call that succeeded. */
  int OK = 0;
  /** The status of an inference that {@link #ov_infer_request_cancel} stopped. */
  int INFER_CANCELLED = -13;
  /** The status of a call whose arguments the C layer refused before reaching OpenVINO; it sets no message. */
  int INVALID_C_PARAM = -14;

  /** A static description of a status code; not to be freed. */
  String ov_get_error_info(int status);

  /** A copy of the process-wide last error message (to free with {@link #ov_free}), or null when there is none. */
  Pointer ov_get_last_err_msg();

  void ov_free(Pointer content);

  /** Fills an {@code ov_version_t} (two {@code const char*}: build number, description). */
  int ov_get_openvino_version(Pointer version);

  void ov_version_free(Pointer version);

  int ov_core_create(PointerByReference core);

  void ov_core_free(Pointer core);

  int ov_core_get_property(Pointer core, String deviceName, String propertyKey, PointerByReference value);

  int ov_core_read_model(Pointer core, String modelPath, String binPath, PointerByReference model);

  /**
   * Compiles a model for a device. {@code propertyArgsSize} counts keys and values together (twice the number of
   * properties), and {@code properties} alternates key and value strings.
   */
  int ov_core_compile_model(
      Pointer core,
      Pointer model,
      String deviceName,
      long propertyArgsSize,
      PointerByReference compiledModel,
      Object... properties);

  void ov_model_free(Pointer model);

  int ov_model_inputs_size(Pointer model, LongByReference size);

  int ov_model_outputs_size(Pointer model, LongByReference size);

  int ov_model_const_input_by_index(Pointer model, long index, PointerByReference port);

  int ov_model_const_output_by_index(Pointer model, long index, PointerByReference port);

  void ov_output_const_port_free(Pointer port);

  int ov_port_get_any_name(Pointer port, PointerByReference name);

  int ov_port_get_element_type(Pointer port, IntByReference type);

  int ov_port_get_partial_shape(Pointer port, Pointer partialShape);

  void ov_partial_shape_free(Pointer partialShape);

  int ov_compiled_model_get_property(Pointer compiledModel, String propertyKey, PointerByReference value);

  int ov_compiled_model_create_infer_request(Pointer compiledModel, PointerByReference inferRequest);

  void ov_compiled_model_free(Pointer compiledModel);

  int ov_infer_request_set_input_tensor_by_index(Pointer inferRequest, long index, Pointer tensor);

  int ov_infer_request_infer(Pointer inferRequest);

  int ov_infer_request_cancel(Pointer inferRequest);

  int ov_infer_request_get_output_tensor_by_index(Pointer inferRequest, long index, PointerByReference tensor);

  void ov_infer_request_free(Pointer inferRequest);

  int ov_tensor_create(int type, OvShapeValue shape, PointerByReference tensor);

  int ov_tensor_create_from_host_ptr(int type, OvShapeValue shape, Pointer hostPtr, PointerByReference tensor);

  int ov_tensor_get_shape(Pointer tensor, Pointer shape);

  int ov_tensor_get_element_type(Pointer tensor, IntByReference type);

  int ov_tensor_get_byte_size(Pointer tensor, LongByReference byteSize);

  int ov_tensor_data(Pointer tensor, PointerByReference data);

  void ov_tensor_free(Pointer tensor);

  int ov_shape_free(Pointer shape);
}
