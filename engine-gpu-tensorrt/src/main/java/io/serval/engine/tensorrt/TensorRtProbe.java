package io.serval.engine.tensorrt;

/**
 * Finds out, once per process, whether TensorRT can run here. This class touches no Bytedeco class itself: it calls
 * {@link NativeProbe}, whose first use makes Bytedeco's Loader load the CUDA and TensorRT natives, inside a catch of
 * everything the JVM throws when they are missing ({@link UnsatisfiedLinkError}, {@link NoClassDefFoundError}, {@link
 * ExceptionInInitializerError}). The result is kept: a second attempt would only see {@code NoClassDefFoundError:
 * Could not initialize class}, without the reason.
 */
final class TensorRtProbe {
  private TensorRtProbe() {}

  /** The probe's result, computed on first call. */
  static ProbeResult result() {
    return Holder.RESULT;
  }

  private static final class Holder {
    static final ProbeResult RESULT = run();
  }

  private static ProbeResult run() {
    try {
      return NativeProbe.probe();
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      return ProbeResult.nativesMissing(e);
    }
  }
}
