package io.serval.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The results of a run: a table on standard output, and with {@code --out} a CSV (one row per level), a JSON
 * document (percentiles, errors by kind with an example message, a per-second timeline) and an HTML page with a
 * chart of latency against throughput. {@code chart} draws several runs' JSON into one page, one series each.
 */
final class Reports {
  static final String CSV_HEADER = "label,protocol,mode,level,seconds,requests,errors,requests_per_sec,"
      + "infer_per_sec,p50_us,p90_us,p95_us,p99_us,p99.9_us,max_us,mean_us,error_kinds";
  private static final double[] PERCENTILES = {50, 90, 95, 99, 99.9};
  private static final String[] PERCENTILE_NAMES = {"p50", "p90", "p95", "p99", "p99.9"};
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String[] COLOURS =
      {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

  private Reports() {}

  static String level(double level) {
    return level == Math.rint(level) ? Long.toString((long) level) : Double.toString(level);
  }

  /** The run as JSON: its settings, then each level. */
  static ObjectNode json(LoadOptions options, List<Samples.InputSpec> inputs, List<LoadRun.Result> results) {
    ObjectNode root = JSON.createObjectNode()
        .put("tool", "serval-load")
        .put("finished", Instant.now().toString())
        .put("label", options.seriesLabel())
        .put("url", options.url().toString())
        .put("protocol", options.grpc() ? "grpc" : options.httpJson() ? "http-json" : "http-binary")
        .put("model", options.model())
        .put("mode", options.mode().key())
        .put("batch", options.batch())
        .put("warmup_seconds", options.warmup().toMillis() / 1000.0);
    ArrayNode inputNodes = root.putArray("inputs");
    for (Samples.InputSpec input : inputs) {
      ArrayNode shape = inputNodes.addObject().put("name", input.name()).put("datatype", input.datatype())
          .putArray("declared_shape");
      for (long dim : input.shape()) {
        shape.add(dim);
      }
    }
    ArrayNode levels = root.putArray("levels");
    for (LoadRun.Result result : results) {
      ObjectNode level = levels.addObject()
          .put("level", result.level())
          .put("seconds", result.seconds())
          .put("sent", result.sent())
          .put("requests", result.requests())
          .put("requests_per_sec", result.requestsPerSecond())
          .put("infer_per_sec", result.requestsPerSecond() * options.batch())
          .put("unanswered", result.unanswered());
      ObjectNode latency = level.putObject("latency_us");
      Histogram histogram = result.latencyMicros();
      for (int i = 0; i < PERCENTILES.length; i++) {
        latency.put(PERCENTILE_NAMES[i], histogram.getValueAtPercentile(PERCENTILES[i]));
      }
      latency.put("max", histogram.getMaxValue()).put("mean", histogram.getMean());
      ObjectNode errors = level.putObject("errors");
      result.errors().forEach(errors::put);
      ObjectNode examples = level.putObject("error_examples");
      result.errorExamples().forEach(examples::put);
      ArrayNode timeline = level.putArray("timeline");
      for (LoadRun.Second second : result.timeline()) {
        timeline.addObject().put("second", second.second()).put("requests", second.requests())
            .put("errors", second.errors()).put("p50_us", second.p50Micros()).put("p99_us", second.p99Micros());
      }
    }
    return root;
  }

  /** One CSV row per level of every run given. */
  static String csv(List<JsonNode> runs) {
    StringBuilder csv = new StringBuilder(CSV_HEADER).append('\n');
    for (JsonNode run : runs) {
      for (JsonNode level : run.path("levels")) {
        JsonNode latency = level.path("latency_us");
        List<String> kinds = new ArrayList<>();
        level.path("errors").fields().forEachRemaining(e -> kinds.add(e.getKey() + "=" + e.getValue().asLong()));
        csv.append(String.join(",", quote(run.path("label").asText()), run.path("protocol").asText(),
            run.path("mode").asText(), level(level.path("level").asDouble()),
            String.format(Locale.ROOT, "%.3f", level.path("seconds").asDouble()),
            level.path("requests").asText(), Long.toString(errorCount(level)),
            String.format(Locale.ROOT, "%.1f", level.path("requests_per_sec").asDouble()),
            String.format(Locale.ROOT, "%.1f", level.path("infer_per_sec").asDouble()),
            latency.path("p50").asText(), latency.path("p90").asText(), latency.path("p95").asText(),
            latency.path("p99").asText(), latency.path("p99.9").asText(), latency.path("max").asText(),
            String.format(Locale.ROOT, "%.0f", latency.path("mean").asDouble()), quote(String.join(";", kinds))))
            .append('\n');
      }
    }
    return csv.toString();
  }

  private static long errorCount(JsonNode level) {
    long count = 0;
    for (JsonNode value : level.path("errors")) {
      count += value.asLong();
    }
    return count;
  }

  private static String quote(String value) {
    return value.contains(",") || value.contains("\"") ? "\"" + value.replace("\"", "\"\"") + "\"" : value;
  }

  /** The table printed at the end of a run. */
  static void printTable(JsonNode run, PrintStream out) {
    out.printf(Locale.ROOT, "%n%s  %s  model %s%n", run.path("label").asText(), run.path("protocol").asText(),
        run.path("model").asText());
    out.printf(Locale.ROOT, "%12s %10s %12s %10s %10s %10s %10s %10s  %s%n", run.path("mode").asText(), "requests",
        "infer/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors");
    for (JsonNode level : run.path("levels")) {
      JsonNode latency = level.path("latency_us");
      StringBuilder errors = new StringBuilder();
      level.path("errors").fields().forEachRemaining(e -> errors.append(errors.length() > 0 ? ", " : "")
          .append(e.getValue().asLong()).append(" ").append(e.getKey()));
      out.printf(Locale.ROOT, "%12s %10d %12.1f %10.2f %10.2f %10.2f %10.2f %10.2f  %s%n",
          level(level.path("level").asDouble()), level.path("requests").asLong(),
          level.path("infer_per_sec").asDouble(), latency.path("p50").asLong() / 1000.0,
          latency.path("p90").asLong() / 1000.0, latency.path("p99").asLong() / 1000.0,
          latency.path("p99.9").asLong() / 1000.0, latency.path("max").asLong() / 1000.0,
          errors.length() == 0 ? "0" : errors);
      if (level.path("unanswered").asLong() > 0) {
        out.printf(Locale.ROOT, "%12s %d requests still unanswered when the level ended%n", "",
            level.path("unanswered").asLong());
      }
    }
  }

  /** Writes results.json, results.csv and chart.html into {@code dir}. */
  static void write(Path dir, List<JsonNode> runs, boolean writeJson) throws IOException {
    Files.createDirectories(dir);
    if (writeJson) {
      JSON.writeValue(dir.resolve("results.json").toFile(), runs.size() == 1 ? runs.get(0) : runs);
    }
    Files.writeString(dir.resolve("results.csv"), csv(runs));
    Files.writeString(dir.resolve("chart.html"), html(runs));
  }

  /** Reads the runs of a results.json (one run, or an array of them). */
  static List<JsonNode> read(Path file) throws IOException {
    JsonNode root = JSON.readTree(file.toFile());
    List<JsonNode> runs = new ArrayList<>();
    if (root.isArray()) {
      root.forEach(runs::add);
    } else {
      runs.add(root);
    }
    for (JsonNode run : runs) {
      if (!run.path("levels").isArray()) {
        throw new IllegalArgumentException(file + ": not a serval-load results.json (no \"levels\")");
      }
    }
    return runs;
  }

  /** A page with the latency/throughput chart (p50 solid, p99 dashed, log latency axis) and the table. */
  static String html(List<JsonNode> runs) {
    StringBuilder page = new StringBuilder("""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>serval-load: latency against throughput</title>
        <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}
        td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}
        td:first-child{text-align:left}</style></head><body>
        <h2>Latency against throughput</h2>
        <p>Each point is one level (concurrency or rate, labelled). Solid: p50; dashed: p99. Latency on a log scale.
        Hover a point for its figures.</p>
        """);
    page.append(svg(runs));
    page.append("<h3>Results</h3><table><tr>");
    for (String column : CSV_HEADER.split(",")) {
      page.append("<th>").append(column).append("</th>");
    }
    page.append("</tr>");
    for (String row : csv(runs).split("\n")) {
      if (row.startsWith("label,")) {
        continue;
      }
      page.append("<tr>");
      for (String cell : row.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")) {
        page.append("<td>").append(escape(cell.replace("\"", ""))).append("</td>");
      }
      page.append("</tr>");
    }
    return page.append("</table></body></html>\n").toString();
  }

  private static String svg(List<JsonNode> runs) {
    int width = 960;
    int height = 540;
    int left = 70;
    int right = 230;
    int top = 20;
    int bottom = 50;
    double maxX = 1;
    double minY = Double.MAX_VALUE;
    double maxY = 0;
    for (JsonNode run : runs) {
      for (JsonNode level : run.path("levels")) {
        maxX = Math.max(maxX, level.path("infer_per_sec").asDouble());
        for (String p : new String[] {"p50", "p99"}) {
          double ms = level.path("latency_us").path(p).asDouble() / 1000.0;
          if (ms > 0) {
            minY = Math.min(minY, ms);
            maxY = Math.max(maxY, ms);
          }
        }
      }
    }
    if (maxY == 0) {
      minY = 0.1;
      maxY = 1;
    }
    double xTop = niceCeiling(maxX * 1.05);
    double yLow = Math.pow(10, Math.floor(Math.log10(minY)));
    double yHigh = Math.pow(10, Math.ceil(Math.log10(maxY * 1.0001)));
    double plotW = width - left - right;
    double plotH = height - top - bottom;
    java.util.function.DoubleUnaryOperator x = v -> left + v / xTop * plotW;
    java.util.function.DoubleUnaryOperator y =
        v -> top + plotH - (Math.log10(v) - Math.log10(yLow)) / (Math.log10(yHigh) - Math.log10(yLow)) * plotH;
    StringBuilder svg = new StringBuilder();
    svg.append(String.format(Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-size=\"12\">%n", width, height));
    for (int i = 0; i <= 5; i++) {
      double v = xTop * i / 5;
      double px = x.applyAsDouble(v);
      svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
          + "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>%n", px, top, px, top + plotH, px,
          top + plotH + 16, level(Math.round(v))));
    }
    for (double decade = yLow; decade < yHigh * 1.0001; decade *= 10) {
      for (int m : new int[] {1, 2, 5}) {
        double v = decade * m;
        if (v > yHigh * 1.0001) {
          break;
        }
        double py = y.applyAsDouble(v);
        svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
            + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", left, py, left + plotW, py,
            m == 1 ? "#ccc" : "#f2f2f2", left - 6, py + 4, v >= 1 ? level(v) : String.format(Locale.ROOT, "%.2g", v)));
      }
    }
    svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
        + "stroke=\"#333\"/>%n", left, top, plotW, plotH));
    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">throughput "
        + "(inferences/s)</text>%n", left + plotW / 2, height - 10));
    svg.append(String.format(Locale.ROOT, "<text transform=\"translate(16,%.1f) rotate(-90)\" "
        + "text-anchor=\"middle\">latency (ms)</text>%n", top + plotH / 2));
    int series = 0;
    for (JsonNode run : runs) {
      String colour = COLOURS[series % COLOURS.length];
      String label = run.path("label").asText() + " (" + run.path("protocol").asText() + ")";
      for (String p : new String[] {"p50", "p99"}) {
        StringBuilder points = new StringBuilder();
        StringBuilder marks = new StringBuilder();
        for (JsonNode level : run.path("levels")) {
          double tp = level.path("infer_per_sec").asDouble();
          double ms = level.path("latency_us").path(p).asDouble() / 1000.0;
          if (ms <= 0) {
            continue;
          }
          double px = x.applyAsDouble(tp);
          double py = y.applyAsDouble(ms);
          points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
          marks.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>"
              + "%s, %s %s: %.0f infer/s, p50 %.2f ms, p99 %.2f ms</title></circle>", px, py, colour,
              escape(label), run.path("mode").asText(), level(level.path("level").asDouble()), tp,
              level.path("latency_us").path("p50").asDouble() / 1000, level.path("latency_us").path("p99")
                  .asDouble() / 1000));
          if (p.equals("p99")) {
            marks.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"10\">"
                + "%s</text>", px + 5, py - 5, colour, level(level.path("level").asDouble())));
          }
        }
        svg.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" "
            + "stroke-width=\"2\"%s/>%s%n", points.toString().trim(), colour,
            p.equals("p99") ? " stroke-dasharray=\"6,4\"" : "", marks));
      }
      double ly = top + 14 + series * 36;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
          + "stroke-width=\"2\"/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
          + "stroke-width=\"2\" stroke-dasharray=\"6,4\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>"
          + "<text x=\"%.1f\" y=\"%.1f\" fill=\"#666\">p50 / p99</text>%n",
          left + plotW + 12, ly, left + plotW + 32, ly, colour, left + plotW + 12, ly + 14, left + plotW + 32,
          ly + 14, colour, left + plotW + 38, ly + 4, escape(label), left + plotW + 38, ly + 18));
      series++;
    }
    return svg.append("</svg>\n").toString();
  }

  private static double niceCeiling(double value) {
    double magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (double step : new double[] {1, 2, 2.5, 5, 10}) {
      if (step * magnitude >= value) {
        return step * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
