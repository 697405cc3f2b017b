package io.serval.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code serval-load} command: drives any KServe v2 server (Serval, Triton, MLServer, KServe ...) with a
 * closed loop (requests kept in flight) or an open loop (Poisson arrivals at a rate) over HTTP or gRPC, and
 * reports HdrHistogram percentiles, errors by kind, CSV, JSON and an HTML chart.
 *
 * <pre>{@code
 * java -jar loadtest/target/serval-load.jar --url grpc://localhost:8001 --model ocr_orientation \
 *     --concurrency 1,4,16,64 --duration 10s --out results/serval
 * java -jar loadtest/target/serval-load.jar chart --out results/all results/serval/results.json results/triton/results.json
 * }</pre>
 *
 * <p>Exit status: 0 when the run finished (errors are results, not failures of the tool), 1 when the server or
 * model could not be reached, 2 for a wrong command line.
 */
public final class LoadTool {
  private LoadTool() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command; returns its exit status. */
  static int run(String... args) {
    if (args.length > 0 && args[0].equals("chart")) {
      return chart(Arrays.copyOfRange(args, 1, args.length));
    }
    if (args.length == 0 || Arrays.asList(args).contains("--help")) {
      System.out.println(LoadOptions.USAGE);
      return args.length == 0 ? 2 : 0;
    }
    LoadOptions options;
    try {
      options = LoadOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("serval-load: " + e.getMessage());
      System.err.println("(--help for the options)");
      return 2;
    }
    try (Target target = Target.connect(options)) {
      List<Samples.InputSpec> inputs = target.inputs();
      List<Target.Call> calls = Samples.of(options, inputs).stream().map(target::prepare).toList();
      List<LoadRun.Result> results = new ArrayList<>();
      for (double level : options.levels()) {
        results.add(new LoadRun(calls, options, level, System.err).run());
      }
      JsonNode run = Reports.json(options, inputs, results);
      Reports.printTable(run, System.out);
      if (options.out() != null) {
        Reports.write(options.out(), List.of(run), true);
        System.out.println("\nwrote " + options.out().resolve("results.csv") + ", results.json, chart.html");
      }
      return 0;
    } catch (IllegalArgumentException e) {
      System.err.println("serval-load: " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } catch (Exception e) {
      System.err.println("serval-load: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    }
  }

  private static int chart(String... args) {
    Path out = null;
    List<JsonNode> runs = new ArrayList<>();
    try {
      for (int i = 0; i < args.length; i++) {
        if (args[i].equals("--out") && i + 1 < args.length) {
          out = Path.of(args[++i]);
        } else {
          runs.addAll(Reports.read(Path.of(args[i])));
        }
      }
      if (out == null || runs.isEmpty()) {
        System.err.println("usage: serval-load chart --out DIR RESULTS.json...");
        return 2;
      }
      Reports.write(out, runs, false);
      System.out.println("wrote " + out.resolve("chart.html") + " and results.csv (" + runs.size() + " series)");
      return 0;
    } catch (Exception e) {
      System.err.println("serval-load chart: " + e.getMessage());
      return 1;
    }
  }
}
