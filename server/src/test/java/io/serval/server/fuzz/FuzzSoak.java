package io.serval.server.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The fuzz soak: the generator of {@link MalformedRequestsFuzzTest}, its mixed stream of all five families, for
 * many more cases against one server, with a markdown report. Run by {@code loadtest/fuzz-soak.sh [cases]}.
 *
 * <p>Arguments: {@code CASES REPORT_FILE}. System properties: {@code serval.fuzz.seed} (default: the clock),
 * {@code serval.fuzz.threads} (default 4). Exit status 1 when any answer was a server error (5xx, INTERNAL,
 * UNKNOWN) or a hang, or when the server stopped answering valid requests correctly after the run.
 */
public final class FuzzSoak {
  private static final int CHUNKS = 10;

  private FuzzSoak() {}

  public static void main(String[] args) throws Exception {
    int cases = args.length > 0 ? Integer.parseInt(args[0].replace("_", "").replace(",", "")) : 100_000;
    Path reportFile = Path.of(args.length > 1 ? args[1] : "fuzz-soak.md");
    long seed = Long.getLong("serval.fuzz.seed", System.currentTimeMillis());
    int threads = Integer.getInteger("serval.fuzz.threads", 4);
    Instant started = Instant.now();
    FuzzGenerator generator = new FuzzGenerator(seed);
    FuzzRun total = new FuzzRun();
    List<String> trajectory = new ArrayList<>();
    String validAfter;
    MemoryProbe baseline;
    MemoryProbe after;
    ServerErrorLog serverLog;
    try (FuzzServer server = FuzzServer.start()) {
      FuzzClient client = new FuzzClient(server);
      serverLog = ServerErrorLog.attach();
      FuzzGenerator warmUp = new FuzzGenerator(seed + 1);
      FuzzRun.run(warmUp::generate, client, 0, Math.min(500, cases), threads, 0, line -> { });
      ValidRequests.check(server);
      baseline = MemoryProbe.settle();
      serverLog.reset();
      trajectory.add("| 0 | " + MemoryProbe.mib(baseline.heapUsed()) + " | " + MemoryProbe.mib(baseline.directUsed())
          + " | " + baseline.directBuffers() + " |");
      int chunk = (cases + CHUNKS - 1) / CHUNKS;
      for (int first = 0; first < cases; first += chunk) {
        int count = Math.min(chunk, cases - first);
        FuzzRun run = FuzzRun.run(generator::generate, client, first, count, threads, 0, line -> { });
        total.add(run);
        MemoryProbe probe = MemoryProbe.settle();
        trajectory.add("| " + (first + count) + " | " + MemoryProbe.mib(probe.heapUsed()) + " | "
            + MemoryProbe.mib(probe.directUsed()) + " | " + probe.directBuffers() + " |");
        System.err.printf(Locale.ROOT, "fuzz soak: %d of %d cases, %.0f/s, %d server errors, %d violations%n",
            total.cases.sum(), cases, total.casesPerSecond(), total.serverErrors.sum(), total.violations.sum());
      }
      try {
        ValidRequests.check(server);
        validAfter = "yes: the golden OCR input over HTTP JSON, HTTP binary and gRPC, and the affine model exactly";
      } catch (AssertionError | RuntimeException e) {
        validAfter = "**NO**: " + e.getMessage();
      }
      after = MemoryProbe.settle();
      serverLog.detach();
      client.close();
    }
    String report = report(cases, seed, threads, started, total, trajectory, baseline, after, validAfter, serverLog);
    Files.createDirectories(reportFile.toAbsolutePath().getParent());
    Files.writeString(reportFile, report);
    System.err.println(total.summary(10));
    System.err.println("report: " + reportFile.toAbsolutePath());
    long hangs = total.count("no answer (timeout)");
    System.exit(total.serverErrors.sum() == 0 && hangs == 0 && validAfter.startsWith("yes") ? 0 : 1);
  }

  private static String report(int cases, long seed, int threads, Instant started, FuzzRun run,
      List<String> trajectory, MemoryProbe baseline, MemoryProbe after, String validAfter, ServerErrorLog serverLog)
      throws IOException {
    StringBuilder md = new StringBuilder();
    String date = DateTimeFormatter.ISO_LOCAL_DATE.format(started.atZone(ZoneOffset.UTC));
    md.append("# Fuzz soak, ").append(date).append("\n\n");
    md.append("`loadtest/fuzz-soak.sh ").append(cases).append("` with SEED=").append(seed).append(", THREADS=")
        .append(threads).append(": the generator of `server/src/test/java/io/serval/server/fuzz/` (all five families"
            + " mixed: JSON bodies, binary framing, headers/encodings/routes, gRPC messages through the stub, raw"
            + " gRPC bytes) against one Serval in the same JVM (models `ocr_orientation`, `affine`, `ocr_dynamic`;"
            + " `--cpu_threads=2`, `--limits.max_request_bytes=")
        .append(FuzzGenerator.MAX_REQUEST_BYTES).append("`), on ").append(Runtime.getRuntime().availableProcessors())
        .append(" CPUs, Java ").append(System.getProperty("java.version")).append(".\n\n");
    long hangs = run.count("no answer (timeout)");
    md.append("| | |\n|---|---|\n");
    md.append(String.format(Locale.ROOT, "| cases | %d |%n| duration | %.1f s |%n| cases per second | %.0f |%n",
        run.cases.sum(), run.elapsedNanos / 1e9, run.casesPerSecond()));
    md.append("| **server errors (5xx, gRPC INTERNAL/UNKNOWN/UNAVAILABLE/DATA_LOSS; must be 0)** | **")
        .append(run.serverErrors.sum()).append("** |\n");
    md.append("| hangs (no answer in ").append(FuzzClient.TIMEOUT.toSeconds()).append(" s) | ").append(hangs)
        .append(" |\n");
    md.append("| all violations (server errors, malformed requests accepted, bad or leaking messages, dropped"
        + " connections) | ").append(run.violations.sum()).append(" in ").append(run.findings.size())
        .append(" distinct findings |\n");
    md.append("| 504 / DEADLINE_EXCEEDED for requests with a tiny deadline of their own (expected) | ")
        .append(run.deadlineAnswers.sum()).append(" |\n");
    md.append("| slowest answer | ").append(run.slowestMillis.get()).append(" ms (").append(run.slowestCase)
        .append(") |\n");
    md.append("| valid requests answered exactly after the run | ").append(validAfter).append(" |\n\n");

    md.append("## Answers by status\n\n| status | count |\n|---|---|\n");
    FuzzRun.sums(run.byStatus).forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
    md.append("\n## Answers by family\n\n| family -> status | count |\n|---|---|\n");
    FuzzRun.sums(run.byFamily).forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));

    md.append("\n## What the server logged at WARN and above\n\n| count | level, logger, exception |\n|---|---|\n");
    Map<String, Long> logged = FuzzRun.sums(serverLog.counts);
    logged.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(40)
        .forEach(e -> md.append("| ").append(e.getValue()).append(" | ").append(cell(e.getKey(), 400)).append(" |\n"));

    md.append("\n## Memory (after GC; the server runs in the soak's JVM)\n\n");
    md.append("| cases done | heap used | direct memory | direct buffers |\n|---|---|---|---|\n");
    trajectory.forEach(line -> md.append(line).append('\n'));
    md.append("\nBaseline (after a 500-case warm-up): ").append(baseline).append(". After the run: ").append(after)
        .append(String.format(Locale.ROOT, ". Heap %+.1f MiB, direct %+.1f MiB (the CI test allows +%d MiB heap, +%d"
            + " MiB direct).%n", (after.heapUsed() - baseline.heapUsed()) / 1048576.0,
            (after.directUsed() - baseline.directUsed()) / 1048576.0, MalformedRequestsFuzzTest.HEAP_TOLERANCE >> 20,
            MalformedRequestsFuzzTest.DIRECT_TOLERANCE >> 20));

    md.append("\n## Findings\n\nEach distinct violation once, with the first case that showed it; replay with"
        + " `FuzzReplay SEED any CASE` (see its javadoc).\n\n");
    int shown = 0;
    for (FuzzRun.Finding finding : run.sortedFindings()) {
      if (shown++ >= 60) {
        md.append("... and ").append(run.findings.size() - 60).append(" more.\n");
        break;
      }
      md.append("### ").append(finding.count.sum()).append("x: ").append(finding.outcome.violation).append(" -> ")
          .append(finding.outcome.status).append("\n\nSeen with: ").append(finding.topMutations(12))
          .append(". First case:\n\n```\n").append(finding.description, 0,
              Math.min(finding.description.length(), 900)).append("\n=> ")
          .append(FuzzClient.abbreviate(finding.outcome.message)).append("\n```\n\n");
    }
    return md.toString();
  }

  private static String cell(String text, int max) {
    String flat = text.replace("|", "\\|").replace("\n", " ");
    return flat.length() > max ? flat.substring(0, max) + "..." : flat;
  }
}
