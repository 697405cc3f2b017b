package io.serval.client.services;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The text lines the OCR service read from a page, in reading order.
 *
 * @param lines every line found
 */
public record OcrResult(List<Line> lines) {
  /** The lines' text joined with newlines. */
  public String text() {
    return lines.stream().map(Line::text).collect(Collectors.joining("\n"));
  }

  /**
   * One text line.
   *
   * @param text what it says
   * @param corners its quadrilateral in the image's pixels, clockwise from the top left as the image shows it
   * @param score the recogniser's confidence, 0 to 1
   * @param rotated whether the line was upside down and read turned by 180 degrees
   */
  public record Line(String text, List<Point> corners, float score, boolean rotated) {}

  /**
   * A corner of a line's quadrilateral.
   *
   * @param x pixels from the left edge
   * @param y pixels from the top edge
   */
  public record Point(float x, float y) {}
}
