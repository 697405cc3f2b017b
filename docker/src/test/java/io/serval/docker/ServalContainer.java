package io.serval.docker;

import io.serval.client.ServalClient;
import io.serval.client.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;
import org.slf4j.LoggerFactory;

/**
 * One Serval container of {@link ServalImage}, as a user runs it: ports 8000 (HTTP), 8001 (gRPC) and 8002
 * (metrics) published, ready when {@code /v2/health/ready} answers 200. {@link #withRepository} mounts a folder of
 * this machine at {@code /repository} beside the built-in {@code /models}, watched for new models and versions.
 */
public final class ServalContainer extends GenericContainer<ServalContainer> {
  public static final int HTTP = 8000;
  public static final int GRPC = 8001;
  public static final int METRICS = 8002;
  /** Where {@link #withRepository} mounts its folder. */
  public static final String REPOSITORY = "/repository";

  private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

  public ServalContainer(String image) {
    super(DockerImageName.parse(image));
    withExposedPorts(HTTP, GRPC, METRICS);
    waitingFor(Wait.forHttp("/v2/health/ready").forPort(HTTP).forStatusCode(200)
        .withStartupTimeout(START_TIMEOUT));
    withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger("container")).withSeparateOutputStreams());
  }

  /**
   * Mounts {@code folder} (made readable to the container's user) read-only at {@link #REPOSITORY} and serves it
   * after the built-in models.
   */
  public ServalContainer withRepository(Path folder) throws IOException {
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
    withFileSystemBind(folder.toString(), REPOSITORY, BindMode.READ_ONLY);
    return withEnv("SERVAL_MODEL_REPOSITORIES", "/models," + REPOSITORY);
  }

  /** {@code host:port} of a published port, as this machine reaches it. */
  public String endpoint(int containerPort) {
    return getHost() + ":" + getMappedPort(containerPort);
  }

  /** A client of this container over {@code transport}, on the port clients expect that protocol on. */
  public ServalClient client(Transport transport) {
    int port = transport == Transport.GRPC ? GRPC : HTTP;
    return ServalClient.builder().transport(transport).endpoint(endpoint(port)).build();
  }
}
