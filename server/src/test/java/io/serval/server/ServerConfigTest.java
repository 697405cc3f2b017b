package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @Test
  void usesTritonsPortsByDefault() throws ConfigException {
    ServerConfig config = ServerConfig.load(Map.of(), List.of());

    assertThat(config.httpPort()).isEqualTo(8000);
    assertThat(config.grpcPort()).isEqualTo(8001);
    assertThat(config.metricsPort()).isEqualTo(8002);
    assertThat(config.maxRequestBytes()).isEqualTo(64 << 20);
    assertThat(config.cpuThreads()).isEqualTo(ServerConfig.defaultCpuThreads(Runtime.getRuntime().availableProcessors()));
    assertThat(config.modelRepositories()).containsExactly(Path.of("models"));
  }

  @Test
  void leavesTheNetworkOneCoreInEightByDefault() {
    assertThat(ServerConfig.defaultCpuThreads(1)).isEqualTo(1);
    assertThat(ServerConfig.defaultCpuThreads(2)).isEqualTo(1);
    assertThat(ServerConfig.defaultCpuThreads(4)).isEqualTo(3);
    assertThat(ServerConfig.defaultCpuThreads(16)).isEqualTo(14);
    assertThat(ServerConfig.defaultCpuThreads(64)).isEqualTo(56);
  }

  @Test
  void commandLineOverridesEnvironmentWhichOverridesTheFile(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("serval.yaml"),
        "http_port: 9000\ngrpc_port: 9001\nlimits:\n  max_request_bytes: 2048\nengines:\n  onnxruntime:\n    spin: true\n");

    ServerConfig config = ServerConfig.load(
        Map.of("SERVAL_GRPC_PORT", "9101", "SERVAL_LIMITS_MAX_REQUEST_BYTES", "4096", "SERVAL_ENGINES_ONNXRUNTIME_SPIN", "false"),
        List.of("--config", file.toString(), "--limits.max_request_bytes=8192", "--model_repositories=a,b"));

    assertThat(config.httpPort()).isEqualTo(9000);
    assertThat(config.grpcPort()).isEqualTo(9101);
    assertThat(config.maxRequestBytes()).isEqualTo(8192);
    assertThat(config.engineSettings("onnxruntime")).containsEntry("spin", "false");
    assertThat(config.modelRepositories()).containsExactly(Path.of("a"), Path.of("b"));
  }

  @Test
  void reportsEveryInvalidValueWithWhereItCameFrom(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("serval.yaml"), "htp_port: 1\nlog_level: LOUD\n");

    assertThatThrownBy(() -> ServerConfig.load(
            Map.of("SERVAL_CPU_THREADS", "many"), List.of("--config=" + file, "--http_port=70000")))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).containsExactlyInAnyOrder(
            file + ": htp_port: unknown field (expected one of: auth, cpu_threads, engines, grpc_port, http_port,"
                + " limits, log_level, management, metrics_port, model_control_mode, model_repositories, repository,"
                + " response_cache_bytes, shutdown_timeout_seconds, tls, warmup)",
            "--http_port: http_port: 70000 (expected: 0 to 65535)",
            "environment variable SERVAL_CPU_THREADS: cpu_threads: is 'many' (expected: an integer from 0 to 4096)",
            file + ": log_level: 'LOUD' (expected one of: TRACE, DEBUG, INFO, WARN, ERROR)"));
  }

  @Test
  void rejectsTheSamePortTwice() {
    assertThatThrownBy(() -> ServerConfig.load(Map.of(), List.of("--grpc_port=8000")))
        .hasMessageContaining("http_port, grpc_port and metrics_port must differ");
  }

  @Test
  void rejectsAMalformedCommandLine() {
    assertThatThrownBy(() -> ServerConfig.load(Map.of(), List.of("http_port=1", "--grpc_port")))
        .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).containsExactly(
            "command line: 'http_port=1' (expected: --field=value or --config FILE)",
            "command line: --grpc_port has no value (expected: --grpc_port=VALUE)"));
  }
}
