package io.serval.engine.tensorrt;

import org.bytedeco.tensorrt.nvinfer.ILogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TensorRT's log, into SLF4J ({@code io.serval.engine.tensorrt.TensorRT}): errors and warnings as such, information
 * at debug, verbose output at trace. TensorRT reports why a build or a deserialisation failed only here, so the last
 * error is kept for the exception that follows.
 */
final class TensorRtLogger extends ILogger {
  /** The one logger; TensorRT keeps a pointer to it, so it lives as long as the process. */
  static final TensorRtLogger INSTANCE = new TensorRtLogger();

  private static final Logger log = LoggerFactory.getLogger("io.serval.engine.tensorrt.TensorRT");

  private volatile String lastError = "";

  private TensorRtLogger() {}

  @Override
  public void log(Severity severity, String message) {
    switch (severity.intern()) {
      case kINTERNAL_ERROR:
      case kERROR:
        lastError = message;
        log.error("{}", message);
        break;
      case kWARNING:
        log.warn("{}", message);
        break;
      case kINFO:
        log.debug("{}", message);
        break;
      default:
        log.trace("{}", message);
        break;
    }
  }

  /** {@code " (TensorRT: <last error>)"}, or nothing when TensorRT logged no error. */
  String suffix() {
    String error = lastError;
    return error.isEmpty() ? "" : " (TensorRT: " + error + ")";
  }
}
