package io.serval.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.command.InspectContainerResponse;
import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferTensor;
import io.serval.client.InvalidRequestException;
import io.serval.client.ServalClient;
import io.serval.client.Transport;
import io.serval.client.services.BuiltInServices;
import io.serval.client.services.OcrResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container.ExecResult;

/**
 * The image as a user runs it: one container of the real {@code docker/Dockerfile} with a repository folder of
 * this machine mounted beside the built-in models, its own {@code serval.yaml} mounted over the image's and a
 * setting in an environment variable, on a read-only root file system, called over HTTP and gRPC with the Java SDK.
 */
@Tag("docker")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainerTest {
  /** Set by the environment, over the mounted file and the image's default of 64 MiB. */
  private static final int MAX_REQUEST_BYTES = 1 << 20;

  @TempDir
  static Path repository;
  @TempDir
  static Path configFolder;

  private ServalContainer container;
  private final Map<Transport, ServalClient> clients = new EnumMap<>(Transport.class);

  @BeforeAll
  void start() throws Exception {
    Path config = configFolder.resolve("serval.yaml");
    Files.writeString(config, "log_level: WARN\nlimits:\n  max_request_bytes: 2097152\n");
    Files.setPosixFilePermissions(configFolder, PosixFilePermissions.fromString("rwxr-xr-x"));
    container = new ServalContainer(ServalImage.build()).withRepository(repository)
        .withFileSystemBind(config.toString(), "/etc/serval/serval.yaml", BindMode.READ_ONLY)
        .withEnv("SERVAL_LIMITS_MAX_REQUEST_BYTES", Integer.toString(MAX_REQUEST_BYTES))
        // As docker/k8s runs it: a read-only root file system, writable /tmp only.
        .withCreateContainerCmdModifier(create -> create.getHostConfig().withReadonlyRootfs(true)
            .withTmpFs(Map.of("/tmp", "rw,size=256m")));
    container.start();
    for (Transport transport : Transport.values()) {
      clients.put(transport, container.client(transport));
    }
  }

  @AfterAll
  void stop() {
    clients.values().forEach(ServalClient::close);
    if (container != null) {
      container.stop();
    }
  }

  @Test
  void runsAsANonRootUserOnAReadOnlyRootWithNoBuildTools() throws Exception {
    InspectContainerResponse info = container.getCurrentContainerInfo();
    assertThat(info.getState().getRunning()).isTrue();
    assertThat(info.getHostConfig().getReadonlyRootfs()).isTrue();
    assertThat(container.execInContainer("touch", "/opt/serval/written").getExitCode()).isNotZero();
    assertThat(container.getContainerInfo().getConfig().getUser()).isEqualTo("10001:10001");
    assertThat(container.execInContainer("id", "-u").getStdout().trim()).isEqualTo("10001");
    ExecResult java = container.execInContainer("java", "-version");
    assertThat(java.getExitCode()).as("java -version: %s", java.getStderr()).isZero();
    for (String tool : List.of("javac", "jar", "mvn", "gcc", "cc", "make", "apt-get", "curl", "wget", "sudo")) {
      ExecResult found = container.execInContainer("bash", "-c", "command -v " + tool);
      boolean absent = found.getExitCode() != 0 || found.getStdout().isBlank();
      boolean packageManager = tool.equals("apt-get");
      // apt-get comes with every Debian-based image, the official Temurin one included; what it can install needs
      // root, which the container does not have.
      assertThat(absent || packageManager).as("%s in the image at %s", tool, found.getStdout().trim()).isTrue();
    }
    ExecResult install = container.execInContainer("apt-get", "install", "-y", "gcc");
    assertThat(install.getExitCode()).as("apt-get as the container's user").isNotZero();
  }

  @Test
  void reportsHealthyThroughItsOwnHealthCheck() {
    await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500)).untilAsserted(() ->
        assertThat(container.getCurrentContainerInfo().getState().getHealth().getStatus()).isEqualTo("healthy"));
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void answersTheBuiltInServicesOverBothProtocols(Transport transport) throws Exception {
    BuiltInServices services = BuiltInServices.of(clients.get(transport));
    Path digits = ServalImage.MODELS.resolve("digits/golden");
    assertThat(services.classifyImage(Files.readAllBytes(digits.resolve("three_112_rgb.jpg"))).label())
        .isEqualTo("3");
    assertThat(services.classifyImage(Files.readAllBytes(digits.resolve("seven.png"))).label()).isEqualTo("7");
    assertThat(services.classifyText("WIN a FREE cruise! Reply now to claim your prize").label()).isEqualTo("spam");
    OcrResult page = services.ocr(Files.readAllBytes(ServalImage.MODELS.resolve("ocr/golden/page.png")));
    JsonNode golden = new ObjectMapper().readTree(ServalImage.MODELS.resolve("ocr/golden/page.json").toFile());
    List<String> expected = new ArrayList<>();
    golden.get("text").forEach(line -> expected.add(line.asText()));
    assertThat(page.lines()).extracting(OcrResult.Line::text).containsExactlyElementsOf(expected);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void answersTheDigitsGoldenTensorExactly(Transport transport) throws Exception {
    InferResult result = clients.get(transport).infer(DigitsGolden.request("digits"));
    assertThat(result.output("probabilities").toFloatArray())
        .containsExactly(DigitsGolden.probabilities(), within(DigitsGolden.TOLERANCE));
  }

  @Test
  void takesItsConfigurationFromTheMountedFileAndTheEnvironment() {
    // The file's log level: the server logged nothing below WARN while it started and served.
    assertThat(container.getLogs()).doesNotContain(" INFO ");
    // The environment's request limit, over the file's: a 1.2 MB request is refused, naming the limit.
    int rows = 400;
    InferRequest large = InferRequest.builder("digits")
        .input(InferTensor.ofFloats("x", new long[] {rows, 1, 28, 28}, new float[rows * 28 * 28])).build();
    assertThatThrownBy(() -> clients.get(Transport.HTTP).infer(large))
        .isInstanceOf(InvalidRequestException.class).hasMessageContaining(Integer.toString(MAX_REQUEST_BYTES));
  }

  @Test
  void loadsAModelCopiedIntoTheMountedRepository() throws Exception {
    ServalClient client = clients.get(Transport.GRPC);
    assertThat(client.isModelReady("digits_copy")).isFalse();
    Models.copyInto(repository, "digits", "digits_copy");
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> client.isModelReady("digits_copy"));
    InferResult result = client.infer(DigitsGolden.request("digits_copy"));
    assertThat(result.modelName()).isEqualTo("digits_copy");
    assertThat(result.output("probabilities").toFloatArray())
        .containsExactly(DigitsGolden.probabilities(), within(DigitsGolden.TOLERANCE));
  }
}
