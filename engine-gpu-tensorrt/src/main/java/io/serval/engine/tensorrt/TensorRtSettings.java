package io.serval.engine.tensorrt;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * How the engine builds and caches one model's plan: the server configuration's {@code engines.tensorrt} settings,
 * overridden by the model's {@code parameters}. Every value is checked at once, and an error names the setting, the
 * value and what was expected.
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>key</th><th>where</th><th>values</th><th>default</th></tr>
 *   <tr><td>{@code precision}</td><td>both</td><td>{@code fp32}, {@code tf32}</td><td>{@code fp32}</td></tr>
 *   <tr><td>{@code workspace}</td><td>both</td><td>bytes, or a number with KiB, MiB, GiB or TiB, 1 MiB to 1 TiB
 *   </td><td>{@code 1GiB}</td></tr>
 *   <tr><td>{@code plan_cache}</td><td>both</td><td>a directory</td><td>{@code ~/.cache/serval/tensorrt}</td></tr>
 *   <tr><td>{@code max_batch_size}</td><td>model</td><td>1 to 65536</td><td>none</td></tr>
 *   <tr><td>{@code profile.<input>}</td><td>model</td><td>{@code min,opt,max} shapes</td><td>derived</td></tr>
 * </table>
 *
 * <pre>{@code
 * TensorRtSettings settings = TensorRtSettings.of(Map.of("plan_cache", "/var/cache/serval"),
 *     Map.of("max_batch_size", "8", "profile.x", "1x3x32x32,8x3x224x224,8x3x640x640"));
 * }</pre>
 */
final class TensorRtSettings {
  static final String PRECISION = "precision";
  static final String WORKSPACE = "workspace";
  static final String PLAN_CACHE = "plan_cache";
  static final String MAX_BATCH_SIZE = "max_batch_size";
  static final String PROFILE_PREFIX = "profile.";

  static final long MIN_WORKSPACE = 1L << 20;
  static final long MAX_WORKSPACE = 1L << 40;
  static final long DEFAULT_WORKSPACE = 1L << 30;
  static final int MAX_MAX_BATCH_SIZE = 65536;

  private static final Set<String> ENGINE_KEYS = Set.of(PRECISION, WORKSPACE, PLAN_CACHE);
  private static final String ENGINE_SOURCE = "engines.tensorrt.";
  private static final String MODEL_SOURCE = "parameters.";

  private final Precision precision;
  private final long workspaceBytes;
  private final Path planCache;
  private final int maxBatchSize;
  private final Map<String, ShapeRange> profiles;
  private final Set<String> buildParameters;

  private TensorRtSettings(
      Precision precision,
      long workspaceBytes,
      Path planCache,
      int maxBatchSize,
      Map<String, ShapeRange> profiles,
      Set<String> buildParameters) {
    this.precision = precision;
    this.workspaceBytes = workspaceBytes;
    this.planCache = planCache;
    this.maxBatchSize = maxBatchSize;
    this.profiles = profiles;
    this.buildParameters = buildParameters;
  }

  /**
   * Reads the engine's settings and one model's parameters, the latter winning.
   *
   * @throws IllegalArgumentException naming the first setting that is unknown or has a value out of range
   */
  static TensorRtSettings of(Map<String, String> engineSettings, Map<String, String> parameters) {
    for (String key : new TreeMap<>(engineSettings).keySet()) {
      if (!ENGINE_KEYS.contains(key)) {
        throw new IllegalArgumentException(ENGINE_SOURCE + key + ": unknown setting (expected one of: plan_cache,"
            + " precision, workspace; max_batch_size and profile.<input> are model parameters)");
      }
    }
    Set<String> buildParameters = new LinkedHashSet<>();
    Map<String, ShapeRange> profiles = new LinkedHashMap<>();
    int maxBatchSize = 0;
    for (Map.Entry<String, String> entry : new TreeMap<>(parameters).entrySet()) {
      String key = entry.getKey();
      String value = entry.getValue();
      if (key.startsWith(PROFILE_PREFIX) && key.length() > PROFILE_PREFIX.length()) {
        String input = key.substring(PROFILE_PREFIX.length());
        try {
          profiles.put(input, ShapeRange.parse(input, value));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(MODEL_SOURCE + key + ": " + e.getMessage(), e);
        }
        buildParameters.add(key);
      } else if (key.equals(MAX_BATCH_SIZE)) {
        maxBatchSize = parseMaxBatchSize(value);
        buildParameters.add(key);
      } else if (key.equals(PRECISION) || key.equals(WORKSPACE)) {
        buildParameters.add(key);
      } else if (key.equals("calibration_cache")) {
        throw new IllegalArgumentException(MODEL_SOURCE + key + ": TensorRT 11 has no INT8 calibration (expected: an"
            + " INT8 model quantised with Q/DQ nodes, for example by NVIDIA ModelOpt, served as it is)");
      } else if (!key.equals(PLAN_CACHE)) {
        throw new IllegalArgumentException(MODEL_SOURCE + key + ": unknown parameter of the tensorrt engine (expected"
            + " one of: max_batch_size, plan_cache, precision, profile.<input>, workspace)");
      }
    }
    Precision precision = parsePrecision(
        sourceOf(PRECISION, parameters), value(PRECISION, engineSettings, parameters, "fp32"));
    long workspace = parseWorkspace(sourceOf(WORKSPACE, parameters),
        value(WORKSPACE, engineSettings, parameters, Long.toString(DEFAULT_WORKSPACE)));
    String cacheSource = sourceOf(PLAN_CACHE, parameters);
    String cacheDir = value(PLAN_CACHE, engineSettings, parameters, "");
    Path planCache = cacheDir.isEmpty() ? defaultPlanCache() : parsePath(cacheSource, cacheDir);
    return new TensorRtSettings(precision, workspace, planCache, maxBatchSize,
        Collections.unmodifiableMap(profiles), Collections.unmodifiableSet(buildParameters));
  }

  private static String value(String key, Map<String, String> engine, Map<String, String> model, String fallback) {
    String value = model.get(key);
    if (value == null) {
      value = engine.get(key);
    }
    return value == null ? fallback : value.trim();
  }

  private static String sourceOf(String key, Map<String, String> parameters) {
    return (parameters.containsKey(key) ? MODEL_SOURCE : ENGINE_SOURCE) + key;
  }

  private static Precision parsePrecision(String source, String value) {
    switch (value.toLowerCase(Locale.ROOT)) {
      case "fp32":
        return Precision.FP32;
      case "tf32":
        return Precision.TF32;
      case "fp16":
      case "bf16":
        throw new IllegalArgumentException(source + ": '" + value + "' (expected: fp32 or tf32; TensorRT 11 builds"
            + " strongly typed networks, so an " + value + " model is converted before it is served, for example"
            + " with NVIDIA ModelOpt AutoCast, and the converted ONNX file is served with precision fp32)");
      case "int8":
      case "fp8":
      case "int4":
      case "fp4":
        throw new IllegalArgumentException(source + ": '" + value + "' (expected: fp32 or tf32; TensorRT 11 has no"
            + " implicit quantisation, so an " + value + " model is quantised with Q/DQ nodes before it is served,"
            + " for example with NVIDIA ModelOpt, and that ONNX file is served with precision fp32)");
      default:
        throw new IllegalArgumentException(source + ": '" + value + "' (expected: fp32 or tf32)");
    }
  }

  /** Parses a byte count: digits, optionally followed by KiB, MiB, GiB or TiB. */
  static long parseSize(String source, String value) {
    String text = value.replace(" ", "");
    long unit = 1;
    String[] suffixes = {"KiB", "MiB", "GiB", "TiB"};
    for (int i = 0; i < suffixes.length; i++) {
      if (text.endsWith(suffixes[i])) {
        unit = 1L << (10 * (i + 1));
        text = text.substring(0, text.length() - suffixes[i].length());
        break;
      }
    }
    try {
      if (text.isEmpty() || !text.chars().allMatch(Character::isDigit)) {
        throw new NumberFormatException(text);
      }
      return Math.multiplyExact(Long.parseLong(text), unit);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException(source + ": '" + value + "' is not a size (expected: bytes, or a whole"
          + " number with KiB, MiB, GiB or TiB, such as 512MiB)");
    }
  }

  private static long parseWorkspace(String source, String value) {
    long bytes = parseSize(source, value);
    if (bytes < MIN_WORKSPACE || bytes > MAX_WORKSPACE) {
      throw new IllegalArgumentException(source + ": '" + value + "' is " + bytes
          + " bytes (expected: 1MiB to 1TiB)");
    }
    return bytes;
  }

  private static int parseMaxBatchSize(String value) {
    int parsed;
    try {
      parsed = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      parsed = -1;
    }
    if (parsed < 1 || parsed > MAX_MAX_BATCH_SIZE) {
      throw new IllegalArgumentException(MODEL_SOURCE + MAX_BATCH_SIZE + ": '" + value + "' (expected: 1 to "
          + MAX_MAX_BATCH_SIZE + ")");
    }
    return parsed;
  }

  private static Path parsePath(String source, String value) {
    try {
      return Path.of(value);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(source + ": '" + value + "' is not a path (" + e.getReason() + ")");
    }
  }

  private static Path defaultPlanCache() {
    return Path.of(System.getProperty("user.home"), ".cache", "serval", "tensorrt");
  }

  Precision precision() {
    return precision;
  }

  long workspaceBytes() {
    return workspaceBytes;
  }

  /** The directory built plans are kept in. */
  Path planCache() {
    return planCache;
  }

  /** The largest batch the plan accepts on a dynamic first dimension; 0 when the model's parameters gave none. */
  int maxBatchSize() {
    return maxBatchSize;
  }

  /** The explicit {@code profile.<input>} ranges, by input name. */
  Map<String, ShapeRange> profiles() {
    return profiles;
  }

  /**
   * The build parameters the model's configuration sets ({@code precision}, {@code workspace}, {@code
   * max_batch_size}, {@code profile.*}): a prebuilt plan has them baked in, so giving them for one is an error.
   */
  Set<String> buildParameters() {
    return buildParameters;
  }

  /** The build flags other than profiles, canonically: {@code precision=fp32;workspace=1073741824}. */
  String canonicalFlags() {
    return "precision=" + precision.configName() + ";workspace=" + workspaceBytes;
  }

  @Override
  public String toString() {
    return canonicalFlags() + ";plan_cache=" + planCache + (maxBatchSize > 0 ? ";max_batch_size=" + maxBatchSize : "")
        + (profiles.isEmpty() ? "" : ";profiles=" + profiles.values());
  }
}
