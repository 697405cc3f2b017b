package io.serval.docker.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1Probe;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.serval.docker.k8s.Manifests.Document;
import io.serval.server.PythonClients;
import io.serval.server.config.ConfigException;
import io.serval.server.config.ServerConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KServe manifests ({@code docker/k8s/kserve}) are valid for KServe and consistent with Serval.
 *
 * <p>Valid: there are no KServe model classes for Java, so each document is checked by {@code
 * src/test/python/validate_kserve.py} against KServe's own Python SDK models (the {@code kserve} package, with the
 * {@code kubernetes} client's models for the Kubernetes types it embeds), in the project's test venv: an unknown
 * key at any depth or a scalar of the wrong type fails, naming the file, the document and the path; faulty copies
 * prove it. Consistent: the runtime's arguments are ones the server accepts over the image's configuration and set
 * the ports KServe expects (HTTP 8080, gRPC 9000, as KServe's Triton runtime does) and {@code /mnt/models}; every
 * port the runtime or an InferenceService declares or probes is one those arguments set; the metrics annotation
 * names the metrics port; the container is locked down as the image's user; and each InferenceService asks for the
 * runtime, a format and a protocol it declares.
 */
class KServeManifestsTest {
  /** Where KServe's storage initializer puts an InferenceService's storageUri (KServe's DefaultModelLocalMountPath). */
  private static final String KSERVE_MODELS = "/mnt/models";
  /** The port KServe and Knative send HTTP to when the container declares none (KServe's Triton runtime: 8080). */
  private static final int KSERVE_HTTP_PORT = 8080;
  /** The gRPC port of KServe's Triton runtime (kserve/kserve config/runtimes/kserve-tritonserver.yaml). */
  private static final int KSERVE_GRPC_PORT = 9000;
  private static final Path VALIDATOR =
      Manifests.MODULE.resolve(Path.of("src", "test", "python", "validate_kserve.py"));
  private static final Path SETUP_ENV =
      Manifests.ROOT.resolve(Path.of("server", "src", "test", "python", "setup_env.sh"));
  private static final Path RUNTIME_FILE = Manifests.KSERVE.resolve("servingruntime.yaml");

  private static List<Document> documents;
  private static Document runtime;
  private static V1Container container;

  @BeforeAll
  static void setUp() throws IOException, InterruptedException {
    PythonClients.run(List.of("bash", SETUP_ENV.toString(), PythonClients.VENV.toString()), Map.of(), 1200);
    documents = Manifests.documents(Manifests.KSERVE);
    runtime = Manifests.only(documents, "ServingRuntime");
    JsonNode containers = runtime.tree().path("spec").path("containers");
    assertThat(containers.size()).as("%s spec.containers", runtime.where()).isEqualTo(1);
    container = KubernetesModels.container(containers.get(0), runtime.where() + " spec.containers[0]");
  }

  private record Validation(int exitCode, String output) {}

  private static Validation validate(List<Path> files) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(PythonClients.python(), VALIDATOR.toString()));
    files.forEach(f -> command.add(Manifests.display(f)));
    Process process = new ProcessBuilder(command).directory(Manifests.ROOT.toFile()).redirectErrorStream(true)
        .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
    return new Validation(process.exitValue(), output);
  }

  @Test
  void kserveModelsAcceptEveryDocument() throws Exception {
    Validation result = validate(Manifests.yamlFiles(Manifests.KSERVE));
    assertThat(result.exitCode()).as("exit code of validate_kserve.py:%n%s", result.output()).isZero();
    for (Document document : documents) {
      assertThat(result.output()).as("validate_kserve.py's verdict on %s", document.where())
          .contains(document.where() + ": ok (");
    }
    assertThat(documents.stream().map(Document::kind).sorted().toList()).as("kinds in %s", Manifests.KSERVE)
        .containsExactly("InferenceService", "InferenceService", "ServingRuntime");
  }

  @Test
  void kserveModelsRefuseFaultyCopies(@TempDir Path folder) throws Exception {
    Path isvcFile = Manifests.KSERVE.resolve("inferenceservice.yaml");
    Map<Path, String> copies = new LinkedHashMap<>();
    copies.put(folder.resolve("servingruntime.yaml"),
        Manifests.replaceOnce(RUNTIME_FILE, "      readinessProbe:\n", "      readinesProbe:\n"));
    copies.put(folder.resolve("format.yaml"),
        Manifests.replaceOnce(RUNTIME_FILE, "      autoSelect: true\n", "      autoselect: true\n"));
    copies.put(folder.resolve("inferenceservice.yaml"),
        Manifests.replaceOnce(isvcFile, "      storageUri:", "      storageURI:"));
    copies.put(folder.resolve("version.yaml"),
        Manifests.replaceOnce(isvcFile, "        version: \"1\"\n", "        version: 1\n"));
    copies.put(folder.resolve("kind.yaml"),
        Manifests.replaceOnce(isvcFile, "kind: InferenceService\n", "kind: InferenceServce\n"));
    for (Map.Entry<Path, String> copy : copies.entrySet()) {
      Files.writeString(copy.getKey(), copy.getValue(), StandardCharsets.UTF_8);
    }
    Validation result = validate(List.copyOf(copies.keySet()));
    assertThat(result.exitCode()).as("exit code of validate_kserve.py on faulty copies:%n%s", result.output())
        .isEqualTo(1);
    String runtimeCopy = Manifests.display(folder.resolve("servingruntime.yaml"));
    String formatCopy = Manifests.display(folder.resolve("format.yaml"));
    String isvcCopy = Manifests.display(folder.resolve("inferenceservice.yaml"));
    String versionCopy = Manifests.display(folder.resolve("version.yaml"));
    String kindCopy = Manifests.display(folder.resolve("kind.yaml"));
    assertThat(result.output()).as("validate_kserve.py's output on faulty copies")
        .contains(runtimeCopy + " document 1 (ServingRuntime serval): spec.containers[0].readinesProbe:"
            + " unknown field 'readinesProbe': V1Container has no such field")
        .contains(formatCopy + " document 1 (ServingRuntime serval): spec.supportedModelFormats[0].autoselect:"
            + " unknown field 'autoselect': V1alpha1SupportedModelFormat has no such field")
        .contains(isvcCopy + " document 1 (InferenceService serval): spec.predictor.model.storageURI:"
            + " unknown field 'storageURI': V1beta1ModelSpec has no such field")
        .contains(versionCopy + " document 1 (InferenceService serval): spec.predictor.model.modelFormat.version:"
            + " is int 1 (expected: a string")
        .contains(kindCopy + " document 1 (InferenceServce serval): apiVersion 'serving.kserve.io/v1beta1'"
            + " kind 'InferenceServce' is not a resource kserve.models defines")
        .contains(": 5 error(s)");
  }

  /** The server's configuration in the container: the image's file (conf/serval.yaml) under the runtime's args. */
  private static ServerConfig runtimeConfig() {
    Path imageConfig = Manifests.ROOT.resolve(Path.of("conf", "serval.yaml"));
    try {
      return ServerConfig.load(Map.of("SERVAL_CONFIG", imageConfig.toString()), container.getArgs());
    } catch (ConfigException e) {
      throw new AssertionError(runtime.where() + " spec.containers[0].args " + container.getArgs()
          + ": the server refuses them over the image's configuration (" + Manifests.display(imageConfig) + "): "
          + e.getMessage(), e);
    }
  }

  @Test
  void runtimeArgumentsSetKServesPortsAndModelFolder() throws Exception {
    ServerConfig config = runtimeConfig();
    String where = runtime.where() + " kserve-container args " + container.getArgs();
    assertThat(container.getName()).as("%s spec.containers[0].name", runtime.where()).isEqualTo("kserve-container");
    assertThat(config.modelRepositories()).as("%s: model_repositories", where)
        .containsExactly(Path.of(KSERVE_MODELS));
    assertThat(config.httpPort()).as("%s: http_port", where).isEqualTo(KSERVE_HTTP_PORT);
    assertThat(config.grpcPort()).as("%s: grpc_port", where).isEqualTo(KSERVE_GRPC_PORT);
    assertThat(runtime.tree().path("spec").path("annotations").path("prometheus.kserve.io/port").asText())
        .as("%s spec.annotations prometheus.kserve.io/port vs %s: metrics_port", runtime.where(), where)
        .isEqualTo(String.valueOf(config.metricsPort()));
  }

  @Test
  void everyDeclaredOrProbedPortIsOneTheArgumentsSet() throws Exception {
    ServerConfig config = runtimeConfig();
    Set<Integer> set = Set.of(config.httpPort(), config.grpcPort(), config.metricsPort());
    Set<Integer> served = Set.of(config.httpPort(), config.grpcPort());
    String where = runtime.where() + " spec.containers[0]";
    for (V1ContainerPort port : container.getPorts()) {
      assertThat(set).as("%s ports %s vs the ports the args set", where, port.getName())
          .contains(port.getContainerPort());
    }
    checkProbe(where + " readinessProbe", container.getReadinessProbe(), "/v2/health/ready", served);
    checkProbe(where + " livenessProbe", container.getLivenessProbe(), "/v2/health/live", served);

    for (Document isvc : documents.stream().filter(d -> d.kind().equals("InferenceService")).toList()) {
      JsonNode model = isvc.tree().path("spec").path("predictor").path("model");
      V1Container overrides = KubernetesModels.container(withoutKServeFields(model),
          isvc.where() + " spec.predictor.model");
      String at = isvc.where() + " spec.predictor.model";
      assertThat(overrides.getPorts().size()).as("%s ports: Knative routes to one port only", at)
          .isLessThanOrEqualTo(1);
      int exposed = overrides.getPorts().isEmpty() ? config.httpPort()
          : overrides.getPorts().get(0).getContainerPort();
      assertThat(served).as("%s: the exposed port %d is one the runtime's args serve", at, exposed).contains(exposed);
      String protocol = model.path("protocolVersion").asText();
      if (protocol.equals("grpc-v2")) {
        assertThat(overrides.getPorts()).as("%s ports: gRPC needs the port named h2c (Knative)", at)
            .extracting(V1ContainerPort::getName, V1ContainerPort::getContainerPort)
            .containsExactly(tuple("h2c", config.grpcPort()));
      }
      for (String probe : List.of("readinessProbe", "livenessProbe")) {
        V1Probe own = probe.equals("readinessProbe") ? overrides.getReadinessProbe() : overrides.getLivenessProbe();
        V1Probe inherited = probe.equals("readinessProbe") ? container.getReadinessProbe()
            : container.getLivenessProbe();
        IntOrString port = own != null && own.getHttpGet() != null && own.getHttpGet().getPort() != null
            ? own.getHttpGet().getPort() : inherited.getHttpGet().getPort();
        assertThat(port.isInteger() ? port.getIntValue() : -1)
            .as("%s %s port (its own or the runtime's): Knative probes the exposed port only", at, probe)
            .isEqualTo(exposed);
      }
    }
  }

  /**
   * The InferenceService's model spec as the container KServe merges into the runtime's: without KServe's own
   * fields, named as the runtime's container when it has no name.
   */
  private static JsonNode withoutKServeFields(JsonNode model) {
    ObjectNode copy = (ObjectNode) model.deepCopy();
    copy.remove(List.of("runtime", "modelFormat", "protocolVersion", "storageUri", "runtimeVersion", "storage"));
    if (!copy.has("name")) {
      copy.put("name", container.getName());
    }
    return copy;
  }

  private static void checkProbe(String where, V1Probe probe, String path, Set<Integer> served) {
    assertThat(probe).as("%s", where).isNotNull();
    assertThat(probe.getHttpGet()).as("%s.httpGet", where).isNotNull();
    assertThat(probe.getHttpGet().getPath()).as("%s.httpGet.path", where).isEqualTo(path);
    IntOrString port = probe.getHttpGet().getPort();
    assertThat(port.isInteger()).as("%s.httpGet.port is a number (the runtime declares no named port)", where)
        .isTrue();
    assertThat(served).as("%s.httpGet.port vs the ports the args set", where).contains(port.getIntValue());
  }

  @Test
  void theRuntimeContainerRunsAsTheImagesUserLockedDown() {
    ImageRecipe image = ImageRecipe.read();
    V1SecurityContext context = container.getSecurityContext();
    String where = runtime.where() + " spec.containers[0].securityContext";
    assertThat(context).as("%s", where).isNotNull();
    assertThat(context.getRunAsUser()).as("%s.runAsUser vs USER in %s", where,
        Manifests.display(ImageRecipe.DOCKERFILE)).isEqualTo((long) image.uid());
    assertThat(context.getRunAsGroup()).as("%s.runAsGroup", where).isEqualTo((long) image.gid());
    assertThat(context.getRunAsNonRoot()).as("%s.runAsNonRoot", where).isTrue();
    assertThat(context.getReadOnlyRootFilesystem()).as("%s.readOnlyRootFilesystem", where).isTrue();
    assertThat(context.getAllowPrivilegeEscalation()).as("%s.allowPrivilegeEscalation", where).isFalse();
    assertThat(context.getCapabilities().getDrop()).as("%s.capabilities.drop", where).containsExactly("ALL");
    assertThat(context.getSeccompProfile().getType()).as("%s.seccompProfile.type", where)
        .isEqualTo("RuntimeDefault");
    JsonNode volumes = runtime.tree().path("spec").path("volumes");
    for (var mount : container.getVolumeMounts()) {
      assertThat(StreamSupport.stream(volumes.spliterator(), false).map(v -> v.path("name").asText()))
          .as("%s spec.containers[0].volumeMounts %s names one of spec.volumes", runtime.where(),
              mount.getMountPath()).contains(mount.getName());
    }
    assertThat(container.getVolumeMounts()).as("%s spec.containers[0].volumeMounts: a writable /tmp",
        runtime.where()).anyMatch(m -> m.getMountPath().equals("/tmp"));
  }

  @Test
  void inferenceServicesAskForWhatTheRuntimeDeclares() {
    JsonNode spec = runtime.tree().path("spec");
    List<String> protocols = StreamSupport.stream(spec.path("protocolVersions").spliterator(), false)
        .map(JsonNode::asText).toList();
    assertThat(protocols).as("%s spec.protocolVersions", runtime.where()).containsExactly("v2", "grpc-v2");
    List<String> formats = StreamSupport.stream(spec.path("supportedModelFormats").spliterator(), false)
        .map(f -> f.path("name").asText() + "/" + f.path("version").asText()).toList();
    assertThat(formats).as("%s spec.supportedModelFormats", runtime.where()).contains("onnx/1");
    List<Document> services = documents.stream().filter(d -> d.kind().equals("InferenceService")).toList();
    for (Document isvc : services) {
      JsonNode model = isvc.tree().path("spec").path("predictor").path("model");
      String at = isvc.where() + " spec.predictor.model";
      assertThat(model.path("runtime").asText()).as("%s.runtime", at).isEqualTo(runtime.name());
      assertThat(formats).as("%s.modelFormat among %s spec.supportedModelFormats", at, runtime.where())
          .contains(model.path("modelFormat").path("name").asText() + "/"
              + model.path("modelFormat").path("version").asText());
      assertThat(protocols).as("%s.protocolVersion among %s spec.protocolVersions", at, runtime.where())
          .contains(model.path("protocolVersion").asText());
      assertThat(model.path("storageUri").asText()).as("%s.storageUri", at).isNotBlank();
    }
    assertThat(services.stream().map(d -> d.tree().path("spec").path("predictor").path("model")
        .path("protocolVersion").asText()).toList()).as("protocolVersion of the InferenceServices")
        .containsExactlyInAnyOrder("v2", "grpc-v2");
  }

  @Test
  void theRuntimeRunsTheDeploymentsImage() {
    Document deployment = Manifests.only(Manifests.documents(Manifests.K8S), "Deployment");
    JsonNode plain = deployment.tree().path("spec").path("template").path("spec").path("containers").get(0);
    assertThat(container.getImage()).as("%s image vs %s", runtime.where(), deployment.where())
        .isEqualTo(plain.path("image").asText());
    assertThat(container.getImagePullPolicy()).as("%s imagePullPolicy", runtime.where()).isEqualTo("IfNotPresent");
  }
}
