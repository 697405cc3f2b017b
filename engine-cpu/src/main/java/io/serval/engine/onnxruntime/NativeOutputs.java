package io.serval.engine.onnxruntime;

import ai.onnxruntime.OnnxTensor;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.jspecify.annotations.Nullable;

/**
 * Reads an output tensor's bytes with one copy. ONNX Runtime's public {@code OnnxTensor.getByteBuffer()} copies the
 * native output into a new heap buffer, which Serval would then copy again into the request's memory; its private
 * {@code getBuffer()} is a direct view of the native output itself. This uses the view when the running version of
 * ONNX Runtime has it (1.23 does) and the public copy otherwise, so an upgrade can only cost a copy, never break.
 */
final class NativeOutputs {
  private static final @Nullable Method VIEW = viewMethod();

  private NativeOutputs() {}

  /** The output's bytes, little-endian; valid only until {@code tensor} is closed. */
  static ByteBuffer view(OnnxTensor tensor) {
    if (VIEW != null) {
      try {
        ByteBuffer view = (ByteBuffer) VIEW.invoke(tensor);
        if (view != null) {
          return view.order(ByteOrder.LITTLE_ENDIAN);
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        // Fall through to the public copy.
      }
    }
    return tensor.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Whether outputs are read through the native view (one copy) rather than the public API's copy (two). */
  static boolean oneCopy() {
    return VIEW != null;
  }

  private static @Nullable Method viewMethod() {
    try {
      Method method = OnnxTensor.class.getDeclaredMethod("getBuffer");
      method.setAccessible(true);
      return method.getReturnType() == ByteBuffer.class ? method : null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
