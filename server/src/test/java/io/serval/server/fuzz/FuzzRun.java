package io.serval.server.fuzz;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * Runs cases {@code [first, first + count)} of a generator against a server from a few threads, tallies the
 * answers by status and family, and keeps every distinct violation with the first case that showed it.
 */
final class FuzzRun {
  /** The first case of each distinct violation, and how often it was seen. */
  static final class Finding {
    final String signature;
    /** The first case's replay line and description (not the case: a run must not hold on to bodies). */
    final String replay;
    final String description;
    final FuzzClient.Outcome outcome;
    final LongAdder count = new LongAdder();
    /** How often each category (family and mutations) showed it; the first 200 categories. */
    final Map<String, LongAdder> mutations = new ConcurrentHashMap<>();

    String topMutations(int max) {
      List<Map.Entry<String, Long>> list = new ArrayList<>(sums(mutations).entrySet());
      list.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < list.size() && i < max; i++) {
        text.append(i > 0 ? ", " : "").append(list.get(i).getKey()).append(" ").append(list.get(i).getValue());
      }
      return text.append(list.size() > max ? ", ..." : "").toString();
    }

    Finding(String signature, String replay, String description, FuzzClient.Outcome outcome) {
      this.signature = signature;
      this.replay = replay;
      this.description = description;
      this.outcome = outcome;
    }
  }

  final Map<String, LongAdder> byStatus = new ConcurrentHashMap<>();
  final Map<String, LongAdder> byFamily = new ConcurrentHashMap<>();
  final Map<String, LongAdder> byCategory = new ConcurrentHashMap<>();
  final Map<String, Finding> findings = new ConcurrentHashMap<>();
  final LongAdder cases = new LongAdder();
  final LongAdder violations = new LongAdder();
  final LongAdder serverErrors = new LongAdder();
  final LongAdder deadlineAnswers = new LongAdder();
  final AtomicLong slowestMillis = new AtomicLong();
  /** Bugs of the generator itself: none may happen. */
  final java.util.Queue<String> generatorFailures = new java.util.concurrent.ConcurrentLinkedQueue<>();
  volatile String slowestCase = "";
  long elapsedNanos;

  /** Runs {@code count} cases from {@code first}, {@code threads} at a time; case {@code i} is {@code cases(i)}. */
  static FuzzRun run(IntFunction<FuzzCase> generator, FuzzClient client, int first, int count, int threads,
      long progressEvery, java.util.function.Consumer<String> progress) throws InterruptedException {
    FuzzRun run = new FuzzRun();
    AtomicInteger next = new AtomicInteger(first);
    ExecutorService workers = Executors.newFixedThreadPool(threads);
    long started = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      workers.execute(() -> {
        for (int i = next.getAndIncrement(); i < first + count; i = next.getAndIncrement()) {
          FuzzCase c;
          try {
            c = generator.apply(i);
          } catch (RuntimeException e) {
            run.generatorFailures.add("case " + i + ": " + e);
            run.cases.increment();
            continue;
          }
          long sent = System.nanoTime();
          FuzzClient.Outcome outcome;
          try {
            outcome = client.send(c);
          } catch (RuntimeException | Error e) {
            outcome = FuzzClient.Outcome.bad("client failure", String.valueOf(e), "the fuzz client failed: " + e);
          }
          run.record(c, outcome, (System.nanoTime() - sent) / 1_000_000);
          long done = run.cases.sum();
          if (progressEvery > 0 && done % progressEvery == 0) {
            progress.accept(String.format(Locale.ROOT, "%d cases, %.0f/s, %d violations", done,
                done / ((System.nanoTime() - started) / 1e9), run.violations.sum()));
          }
        }
      });
    }
    workers.shutdown();
    if (!workers.awaitTermination(6, TimeUnit.HOURS)) {
      throw new IllegalStateException("the fuzz run did not finish");
    }
    run.elapsedNanos = System.nanoTime() - started;
    return run;
  }

  private void record(FuzzCase c, FuzzClient.Outcome outcome, long millis) {
    cases.increment();
    String family = c.category.substring(0, c.category.indexOf('/') < 0 ? c.category.length() : c.category.indexOf('/'));
    byStatus.computeIfAbsent(outcome.status, k -> new LongAdder()).increment();
    byFamily.computeIfAbsent(family + " -> " + outcome.status, k -> new LongAdder()).increment();
    byCategory.computeIfAbsent(c.category, k -> new LongAdder()).increment();
    if (outcome.status.endsWith("504") || outcome.status.endsWith("DEADLINE_EXCEEDED")) {
      deadlineAnswers.increment();
    }
    if (millis > slowestMillis.get()) {
      slowestMillis.set(millis);
      slowestCase = c.replay();
    }
    if (outcome.serverError) {
      serverErrors.increment();
    }
    if (outcome.violation != null) {
      violations.increment();
      String signature = outcome.violation + " | " + outcome.status + " | " + normalize(outcome.message);
      Finding finding = findings.computeIfAbsent(signature, k -> new Finding(k, c.replay(), c.describe(1500), outcome));
      finding.count.increment();
      if (finding.mutations.size() < 200 || finding.mutations.containsKey(c.category)) {
        finding.mutations.computeIfAbsent(c.category, k -> new LongAdder()).increment();
      }
    }
  }

  /** A message with its numbers and quoted names blanked, so one bug counts once. */
  private static String normalize(String message) {
    String text = message.length() > 160 ? message.substring(0, 160) : message;
    return text.replaceAll("'[^']*'", "'_'").replaceAll("\\b[0-9a-f]{8,}\\b", "<id>").replaceAll("\\d+", "#");
  }

  /** Adds {@code other}'s counts to this run's (the first case of a finding seen in both stays this run's). */
  void add(FuzzRun other) {
    other.byStatus.forEach((k, v) -> byStatus.computeIfAbsent(k, x -> new LongAdder()).add(v.sum()));
    other.byFamily.forEach((k, v) -> byFamily.computeIfAbsent(k, x -> new LongAdder()).add(v.sum()));
    other.byCategory.forEach((k, v) -> byCategory.computeIfAbsent(k, x -> new LongAdder()).add(v.sum()));
    other.findings.forEach((k, v) -> {
      Finding finding = findings.computeIfAbsent(k, x -> new Finding(k, v.replay, v.description, v.outcome));
      finding.count.add(v.count.sum());
      v.mutations.forEach((m, n) -> finding.mutations.computeIfAbsent(m, x -> new LongAdder()).add(n.sum()));
    });
    generatorFailures.addAll(other.generatorFailures);
    cases.add(other.cases.sum());
    violations.add(other.violations.sum());
    serverErrors.add(other.serverErrors.sum());
    deadlineAnswers.add(other.deadlineAnswers.sum());
    if (other.slowestMillis.get() > slowestMillis.get()) {
      slowestMillis.set(other.slowestMillis.get());
      slowestCase = other.slowestCase;
    }
    elapsedNanos += other.elapsedNanos;
  }

  long count(String status) {
    LongAdder adder = byStatus.get(status);
    return adder == null ? 0 : adder.sum();
  }

  double casesPerSecond() {
    return cases.sum() / (elapsedNanos / 1e9);
  }

  List<Finding> sortedFindings() {
    List<Finding> list = new ArrayList<>(findings.values());
    list.sort((a, b) -> Long.compare(b.count.sum(), a.count.sum()));
    return list;
  }

  /** A plain-text summary for test failures and logs. */
  String summary(int maxFindings) {
    StringBuilder text = new StringBuilder();
    text.append(String.format(Locale.ROOT, "%d cases in %.1f s (%.0f/s); %d violations in %d distinct findings;"
        + " %d server errors%n", cases.sum(), elapsedNanos / 1e9, casesPerSecond(), violations.sum(), findings.size(),
        serverErrors.sum()));
    text.append("by status: ").append(new TreeMap<>(sums(byStatus))).append('\n');
    if (!generatorFailures.isEmpty()) {
      text.append("GENERATOR FAILURES: ").append(generatorFailures).append('\n');
    }
    int shown = 0;
    for (Finding finding : sortedFindings()) {
      if (shown++ >= maxFindings) {
        text.append("... and ").append(findings.size() - maxFindings).append(" more findings\n");
        break;
      }
      text.append("\n[").append(finding.count.sum()).append("x] ").append(finding.outcome.violation)
          .append(" -> ").append(finding.outcome.status).append(": ").append(finding.outcome.message).append('\n')
          .append("seen with: ").append(finding.topMutations(8)).append('\n')
          .append(finding.description, 0, Math.min(finding.description.length(), 700)).append('\n');
    }
    return text.toString();
  }

  static Map<String, Long> sums(Map<String, LongAdder> adders) {
    Map<String, Long> sums = new TreeMap<>();
    adders.forEach((key, adder) -> sums.put(key, adder.sum()));
    return Collections.unmodifiableMap(sums);
  }
}
