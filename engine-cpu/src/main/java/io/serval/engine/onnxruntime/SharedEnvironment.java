package io.serval.engine.onnxruntime;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;

/**
 * The process-wide ONNX Runtime environment and its global thread pools. ONNX Runtime allows one environment
 * per process and fixes its pools when it is created, so the first engine created (whatever its name or profile)
 * decides the pool's size and spinning; later engines share it (and say so in their threading summary).
 */
final class SharedEnvironment {
  private static SharedEnvironment instance;

  final OrtEnvironment environment;
  final int intraOpThreads;
  final boolean spinning;
  /** The name of the engine whose profile sized the pools. */
  final String createdBy;

  private SharedEnvironment(OrtEnvironment environment, int intraOpThreads, boolean spinning, String createdBy) {
    this.environment = environment;
    this.intraOpThreads = intraOpThreads;
    this.spinning = spinning;
    this.createdBy = createdBy;
  }

  /**
   * The shared environment, created on first use with an intra-op pool of the profile's size and spinning, and
   * an inter-op pool of one (Serval runs graphs sequentially and parallelises across requests instead).
   *
   * @throws OrtException when ONNX Runtime cannot create the environment
   * @throws LinkageError when its natives cannot be loaded on this platform
   */
  static synchronized SharedEnvironment get(OnnxRuntimeProfile profile, String engineName) throws OrtException {
    if (instance == null) {
      try (OrtEnvironment.ThreadingOptions threading = new OrtEnvironment.ThreadingOptions()) {
        threading.setGlobalIntraOpNumThreads(profile.intraOpThreads());
        threading.setGlobalInterOpNumThreads(1);
        threading.setGlobalSpinControl(profile.spinning());
        // A failed run is reported once, by Serval (the caller's error to the caller, an internal one in the log
        // with its request id); ONNX Runtime's own stderr line would repeat it for every bad request.
        OrtEnvironment environment =
            OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "serval", threading);
        instance = new SharedEnvironment(environment, profile.intraOpThreads(), profile.spinning(), engineName);
      }
    }
    return instance;
  }
}
