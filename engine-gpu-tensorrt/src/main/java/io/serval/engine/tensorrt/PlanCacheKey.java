package io.serval.engine.tensorrt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * What a built plan depends on, and so the name it is cached under: the model file's SHA-256, the TensorRT version
 * that built it, the compute capability of the GPU it was built on ({@code 8.6}), and the canonical build flags
 * including the optimization profile. A plan is only valid for exactly these; any change gives another file name.
 *
 * <pre>{@code
 * PlanCacheKey key = PlanCacheKey.of(PlanCacheKey.sha256Of(onnx), "11.2.0.5", "8.6",
 *     settings.canonicalFlags() + ";profile=" + OptimizationProfiles.canonical(ranges));
 * Path plan = cacheDir.resolve(key.fileName());   // trt11.2.0.5-sm86-3f2a...e1.plan
 * }</pre>
 */
final class PlanCacheKey {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern VERSION = Pattern.compile("[0-9]+(\\.[0-9]+)*");
  private static final Pattern CAPABILITY = Pattern.compile("[0-9]+\\.[0-9]+");

  private final String modelSha256;
  private final String tensorRtVersion;
  private final String computeCapability;
  private final String buildFlags;

  private PlanCacheKey(String modelSha256, String tensorRtVersion, String computeCapability, String buildFlags) {
    this.modelSha256 = modelSha256;
    this.tensorRtVersion = tensorRtVersion;
    this.computeCapability = computeCapability;
    this.buildFlags = buildFlags;
  }

  /** A key; throws when a part is not in its expected form. */
  static PlanCacheKey of(String modelSha256, String tensorRtVersion, String computeCapability, String buildFlags) {
    if (!SHA256.matcher(modelSha256).matches()) {
      throw new IllegalArgumentException("modelSha256: '" + modelSha256 + "' (expected: 64 lower-case hex digits)");
    }
    if (!VERSION.matcher(tensorRtVersion).matches()) {
      throw new IllegalArgumentException("tensorRtVersion: '" + tensorRtVersion + "' (expected: such as 11.2.0.5)");
    }
    if (!CAPABILITY.matcher(computeCapability).matches()) {
      throw new IllegalArgumentException(
          "computeCapability: '" + computeCapability + "' (expected: major.minor, such as 8.6)");
    }
    if (buildFlags.isEmpty() || buildFlags.contains("\n")) {
      throw new IllegalArgumentException("buildFlags: '" + buildFlags + "' (expected: one non-empty line)");
    }
    return new PlanCacheKey(modelSha256, tensorRtVersion, computeCapability, buildFlags);
  }

  /** The SHA-256 of a file's bytes, as 64 lower-case hex digits. */
  static String sha256Of(Path file) throws IOException {
    MessageDigest digest = sha256();
    byte[] buffer = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
        digest.update(buffer, 0, read);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** All parts, one per line: what the cached file records and is checked against when read. */
  String canonical() {
    return "model-sha256=" + modelSha256 + "\ntensorrt=" + tensorRtVersion + "\ncompute-capability="
        + computeCapability + "\nflags=" + buildFlags + "\n";
  }

  /**
   * The cache file's name: the version and capability in clear (so a person can see what a file is for and clean up
   * after an upgrade), then 32 hex digits of the SHA-256 of {@link #canonical()}.
   */
  String fileName() {
    String hash = HexFormat.of().formatHex(sha256().digest(canonical().getBytes(StandardCharsets.UTF_8)));
    return "trt" + tensorRtVersion + "-sm" + computeCapability.replace(".", "") + "-" + hash.substring(0, 32)
        + ".plan";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PlanCacheKey && ((PlanCacheKey) o).canonical().equals(canonical());
  }

  @Override
  public int hashCode() {
    return canonical().hashCode();
  }

  @Override
  public String toString() {
    return canonical().replace('\n', ' ').trim();
  }
}
