package io.serval.server.fuzz;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.LoggerFactory;

/**
 * Counts the warnings and errors the server logs (it runs in this JVM) by logger and exception: an INTERNAL
 * answer only says "see the server log", and this is where a fuzz run reads the log.
 */
final class ServerErrorLog extends AppenderBase<ILoggingEvent> {
  final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  static ServerErrorLog attach() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    ServerErrorLog log = new ServerErrorLog();
    log.setContext(context);
    log.setName("fuzz-server-errors");
    log.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(log);
    return log;
  }

  void detach() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(this);
    stop();
  }

  void reset() {
    counts.clear();
  }

  @Override
  protected void append(ILoggingEvent event) {
    if (!event.getLevel().isGreaterOrEqual(Level.WARN)) {
      return;
    }
    String logger = event.getLoggerName().substring(event.getLoggerName().lastIndexOf('.') + 1);
    IThrowableProxy error = event.getThrowableProxy();
    String what;
    if (error == null) {
      what = normalize(event.getFormattedMessage());
    } else {
      IThrowableProxy root = error;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      what = simple(error.getClassName()) + ": " + normalize(String.valueOf(error.getMessage()))
          + (root != error ? " <- " + simple(root.getClassName()) + ": " + normalize(String.valueOf(root.getMessage()))
              : "");
    }
    counts.computeIfAbsent(event.getLevel() + " " + logger + " | " + what, k -> new LongAdder()).increment();
  }

  private static String simple(String className) {
    return className.substring(className.lastIndexOf('.') + 1);
  }

  static String normalize(String message) {
    String text = message.length() > 200 ? message.substring(0, 200) + "..." : message;
    return text.replaceAll("\\[[0-9a-f]{8,}\\]", "[<id>]").replaceAll("\\b[0-9a-f]{16}\\b", "<id>")
        .replaceAll("0x[0-9a-f]+", "0x#").replaceAll("\\d+", "#").replace('\n', ' ');
  }
}
