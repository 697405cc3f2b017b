package io.serval.loadtest;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The options of one load run, parsed from the command line. Every problem is an {@link IllegalArgumentException}
 * naming the option and what was expected.
 */
record LoadOptions(
    URI url,
    String model,
    @Nullable String modelVersion,
    Mode mode,
    List<Double> levels,
    Duration duration,
    long requests,
    Duration warmup,
    int batch,
    Map<String, long[]> shapes,
    Map<String, Path> inputFiles,
    @Nullable Path inputData,
    boolean httpJson,
    Duration timeout,
    @Nullable String token,
    @Nullable String label,
    @Nullable Path out,
    int maxOutstanding,
    long seed,
    boolean quiet) {

  /** How requests are offered: a fixed number in flight, or arrivals at a rate. */
  enum Mode {
    /** Closed loop: each of N clients sends its next request when its last one is answered. */
    CONCURRENCY,
    /** Open loop: requests arrive as a Poisson process of the given rate, whatever the server answers. */
    RATE;

    String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  static final String USAGE = String.join("\n",
      "usage: java -jar loadtest/target/serval-load.jar --url URL --model NAME [options]",
      "       java -jar loadtest/target/serval-load.jar chart --out DIR RESULTS.json...",
      "",
      "Drives any KServe v2 / Open Inference Protocol server and reports throughput and latency percentiles.",
      "",
      "  --url URL               grpc://HOST:PORT or http://HOST:PORT (grpcs:// and https:// for TLS)",
      "  --model NAME            the model (or pipeline) to call",
      "  --model-version V       a version (default: the server's choice)",
      "  --concurrency LIST      closed loop: requests kept in flight, e.g. 1,4,16,64 (default 1)",
      "  --rate LIST             open loop: Poisson arrivals per second, e.g. 100,200 (instead of --concurrency)",
      "  --duration D            measured time per level, e.g. 10s, 500ms, 2m (default 10s)",
      "  --requests N            measure N requests per level instead of a duration",
      "  --warmup D              unmeasured load before each level (default 2s; 0 for none)",
      "  --batch N               the batch dimension of generated inputs (default 1)",
      "  --shape NAME=D1,D2,...  the full shape of one input, batch included (repeatable)",
      "  --input NAME=FILE       one input from a file: raw little-endian bytes (.bin) or NumPy (.npy) (repeatable)",
      "  --input-data FILE       samples in perf_analyzer's --input-data JSON form, sent round-robin",
      "  --http-json             send HTTP tensors as JSON arrays instead of the binary tensor extension",
      "  --timeout D             per-request time limit (default 30s); a request past it counts as 'timeout'",
      "  --token TOKEN           a bearer token sent with every request",
      "  --label TEXT            the name of this series in results and charts (default: the URL)",
      "  --out DIR               write DIR/results.csv, DIR/results.json and DIR/chart.html",
      "  --max-outstanding N     open loop: requests in flight past which arrivals are dropped (default 10000)",
      "  --seed N                seed of the generated inputs and arrivals (default 1)",
      "  --quiet                 no progress line",
      "",
      "Inputs are generated from the model's metadata unless given: random values of each input's datatype,",
      "the leading -1 set to --batch and any other -1 to 1.");

  static LoadOptions parse(String... args) {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    Map<String, Path> inputFiles = new LinkedHashMap<>();
    boolean httpJson = false;
    boolean quiet = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      switch (name) {
        case "--http-json" -> httpJson = true;
        case "--quiet" -> quiet = true;
        case "--url", "--model", "--model-version", "--concurrency", "--rate", "--duration", "--requests",
            "--warmup", "--batch", "--shape", "--input", "--input-data", "--timeout", "--token", "--label",
            "--out", "--max-outstanding", "--seed" -> {
          if (value == null) {
            if (i + 1 >= args.length) {
              throw new IllegalArgumentException(name + ": missing value");
            }
            value = args[++i];
          }
          if (name.equals("--shape")) {
            String[] pair = pair(name, value);
            shapes.put(pair[0], longs(name, pair[1]));
          } else if (name.equals("--input")) {
            String[] pair = pair(name, value);
            inputFiles.put(pair[0], Path.of(pair[1]));
          } else if (values.put(name, value) != null) {
            throw new IllegalArgumentException(name + ": given twice");
          }
        }
        default -> throw new IllegalArgumentException(arg + ": unknown option");
      }
    }
    if (values.containsKey("--concurrency") && values.containsKey("--rate")) {
      throw new IllegalArgumentException("--concurrency and --rate: give one of them, not both");
    }
    Mode mode = values.containsKey("--rate") ? Mode.RATE : Mode.CONCURRENCY;
    List<Double> levels = mode == Mode.RATE
        ? positiveNumbers("--rate", values.get("--rate"))
        : positiveNumbers("--concurrency", values.getOrDefault("--concurrency", "1"));
    if (mode == Mode.CONCURRENCY) {
      for (double level : levels) {
        if (level != Math.rint(level)) {
          throw new IllegalArgumentException("--concurrency: " + level + " (expected: whole numbers)");
        }
      }
    }
    String requests = values.get("--requests");
    if (requests != null && values.containsKey("--duration")) {
      throw new IllegalArgumentException("--duration and --requests: give one of them, not both");
    }
    return new LoadOptions(
        url(required(values, "--url")),
        required(values, "--model"),
        values.get("--model-version"),
        mode,
        List.copyOf(levels),
        duration("--duration", values.getOrDefault("--duration", "10s"), false),
        requests == null ? 0 : positiveLong("--requests", requests),
        duration("--warmup", values.getOrDefault("--warmup", "2s"), true),
        (int) positiveLong("--batch", values.getOrDefault("--batch", "1")),
        Map.copyOf(shapes),
        Map.copyOf(inputFiles),
        values.containsKey("--input-data") ? Path.of(values.get("--input-data")) : null,
        httpJson,
        duration("--timeout", values.getOrDefault("--timeout", "30s"), false),
        values.get("--token"),
        values.get("--label"),
        values.containsKey("--out") ? Path.of(values.get("--out")) : null,
        (int) positiveLong("--max-outstanding", values.getOrDefault("--max-outstanding", "10000")),
        Long.parseLong(values.getOrDefault("--seed", "1")),
        quiet);
  }

  /** True when the URL names the gRPC front end. */
  boolean grpc() {
    return url.getScheme().startsWith("grpc");
  }

  String seriesLabel() {
    return label != null ? label : url.toString();
  }

  private static String required(Map<String, String> values, String name) {
    String value = values.get(name);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + ": required");
    }
    return value;
  }

  private static URI url(String value) {
    URI uri;
    try {
      uri = URI.create(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--url: " + value + " (expected: grpc://HOST:PORT or http://HOST:PORT)");
    }
    String scheme = uri.getScheme();
    if (scheme == null || !List.of("grpc", "grpcs", "http", "https").contains(scheme) || uri.getHost() == null
        || uri.getPort() < 0) {
      throw new IllegalArgumentException("--url: " + value + " (expected: grpc://HOST:PORT or http://HOST:PORT)");
    }
    return uri;
  }

  private static String[] pair(String name, String value) {
    int eq = value.indexOf('=');
    if (eq <= 0 || eq == value.length() - 1) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: NAME=VALUE)");
    }
    return new String[] {value.substring(0, eq), value.substring(eq + 1)};
  }

  private static long[] longs(String name, String value) {
    try {
      long[] dims = Arrays.stream(value.split(",")).mapToLong(s -> Long.parseLong(s.trim())).toArray();
      for (long dim : dims) {
        if (dim < 0) {
          throw new NumberFormatException();
        }
      }
      return dims;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: dimensions >= 0, comma-separated)");
    }
  }

  private static List<Double> positiveNumbers(String name, String value) {
    List<Double> numbers = new ArrayList<>();
    for (String part : value.split(",")) {
      double number;
      try {
        number = Double.parseDouble(part.trim());
      } catch (NumberFormatException e) {
        number = Double.NaN;
      }
      if (!(number > 0) || Double.isInfinite(number)) {
        throw new IllegalArgumentException(name + ": " + part + " (expected: numbers > 0, comma-separated)");
      }
      numbers.add(number);
    }
    return numbers;
  }

  private static long positiveLong(String name, String value) {
    try {
      long number = Long.parseLong(value.trim());
      if (number > 0 && number <= Integer.MAX_VALUE) {
        return number;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException(name + ": " + value + " (expected: a whole number > 0)");
  }

  /** {@code 10s}, {@code 500ms}, {@code 2m} or a plain number of seconds. */
  static Duration duration(String name, String value, boolean zeroAllowed) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    double amount;
    long unitNanos;
    try {
      if (v.endsWith("ms")) {
        amount = Double.parseDouble(v.substring(0, v.length() - 2));
        unitNanos = 1_000_000L;
      } else if (v.endsWith("s")) {
        amount = Double.parseDouble(v.substring(0, v.length() - 1));
        unitNanos = 1_000_000_000L;
      } else if (v.endsWith("m")) {
        amount = Double.parseDouble(v.substring(0, v.length() - 1));
        unitNanos = 60_000_000_000L;
      } else {
        amount = Double.parseDouble(v);
        unitNanos = 1_000_000_000L;
      }
    } catch (NumberFormatException e) {
      amount = Double.NaN;
      unitNanos = 0;
    }
    if (Double.isNaN(amount) || amount < 0 || (amount == 0 && !zeroAllowed) || Double.isInfinite(amount)) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: a duration such as 10s, 500ms or 2m"
          + (zeroAllowed ? ", or 0)" : ", above 0)"));
    }
    return Duration.ofNanos((long) (amount * unitNanos));
  }
}
