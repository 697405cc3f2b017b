package io.serval.server.fuzz;

import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/** Finds what an error message must never show a client: stack frames, Java class names, exception types. */
final class Leaks {
  private static final List<Pattern> PATTERNS = List.of(
      Pattern.compile("\\bat [\\w$.]+\\([\\w$ ]*(?:\\.java:\\d+)?\\)"),
      Pattern.compile("\\tat "),
      Pattern.compile("\\b(?:java|javax|jdk|sun|com|org|io|net)\\.[a-z][\\w$]*\\.[\\w$.]+"),
      Pattern.compile("[A-Za-z](?:Exception|Throwable)\\b"),
      Pattern.compile("[a-z](?:Error)\\b"),
      Pattern.compile("\\b(?:StreamReadConstraints|StreamConstraints|JsonToken|JsonNode|ByteBuf|ByteBuffer)\\b"),
      Pattern.compile("\\[B@[0-9a-f]+|\\w@[0-9a-f]{6,8}\\b"),
      Pattern.compile("\\.java:\\d+"));

  private Leaks() {}

  /**
   * The first leak in {@code message}, or null. A hit that the request itself contains is an echo of the input (a
   * model name the client chose), not a leak.
   */
  static @Nullable String find(String message, Supplier<String> input) {
    // Messages that echo a megabyte of input are scanned at both ends, where any framework text would be.
    String text = message.length() <= 16_384 ? message
        : message.substring(0, 8192) + "\n" + message.substring(message.length() - 8192);
    String request = null;
    for (Pattern pattern : PATTERNS) {
      Matcher matcher = pattern.matcher(text);
      while (matcher.find()) {
        String hit = matcher.group();
        if (request == null) {
          request = input.get();
        }
        if (!request.contains(hit)) {
          return word(text, matcher.start(), matcher.end());
        }
      }
    }
    return null;
  }

  /** The hit with the rest of its word around it ({@code "eException"} becomes {@code "IOException"}). */
  private static String word(String text, int start, int end) {
    int from = start;
    while (from > 0 && start - from < 80 && isWord(text.charAt(from - 1))) {
      from--;
    }
    int to = end;
    while (to < text.length() && to - end < 80 && isWord(text.charAt(to))) {
      to++;
    }
    return text.substring(from, to);
  }

  private static boolean isWord(char c) {
    return Character.isLetterOrDigit(c) || c == '.' || c == '$' || c == '_';
  }
}
