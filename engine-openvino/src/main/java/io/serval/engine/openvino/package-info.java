/**
 * The OpenVINO engine: OpenVINO IR and ONNX models on the CPU, through OpenVINO's C API mapped with JNA. The
 * runtime is not bundled; it is found at engine creation, never at class loading, in a folder the operator names or
 * an installed {@code openvino} wheel.
 *
 * <p>Start with {@link io.serval.engine.openvino.OpenVinoEngine}; {@link
 * io.serval.engine.openvino.RuntimeLocator} finds the library, {@link io.serval.engine.openvino.OpenVinoRuntime}
 * loads it once per process, {@link io.serval.engine.openvino.OpenVinoInstance} runs one compiled model.
 *
 * <p>Each instance has one infer request and runs it with the synchronous {@code ov_infer_request_infer}. The
 * asynchronous API ({@code ov_infer_request_start_async}, then {@code ov_infer_request_wait} or a callback) would
 * not pay here: an instance runs one request at a time and the server parallelises by pooling instances, so the
 * calling thread would start the request and at once wait for it, adding a hand-off to OpenVINO's thread for
 * nothing; the inference runs on the same CPU stream either way. Keeping several requests in flight on one compiled
 * model (THROUGHPUT with several streams) would need an instance to take concurrent runs, which the engine SPI does
 * not ask of it. An aborted run is stopped with {@code ov_infer_request_cancel}.
 */
@NullMarked
package io.serval.engine.openvino;

import org.jspecify.annotations.NullMarked;
