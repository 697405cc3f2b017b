package io.serval.docker.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.kubernetes.client.custom.IntOrString;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1ContainerPort;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1HTTPGetAction;
import io.kubernetes.client.openapi.models.V1LifecycleHandler;
import io.kubernetes.client.openapi.models.V1PersistentVolumeClaim;
import io.kubernetes.client.openapi.models.V1PodDisruptionBudget;
import io.kubernetes.client.openapi.models.V1PodSecurityContext;
import io.kubernetes.client.openapi.models.V1PodSpec;
import io.kubernetes.client.openapi.models.V1Probe;
import io.kubernetes.client.openapi.models.V1SecurityContext;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServicePort;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V1VolumeMount;
import io.kubernetes.client.openapi.models.V2HorizontalPodAutoscaler;
import io.kubernetes.client.openapi.models.V2MetricSpec;
import io.serval.docker.k8s.Manifests.Document;
import io.serval.server.config.ServerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plain Kubernetes manifests agree with the image ({@code docker/Dockerfile}), the server and each other: the
 * probes ask the server's health endpoints on its HTTP port; the container ports are the ones the image exposes
 * and the configuration sets; the pod runs as the image's user, locked down; the Service, autoscaler and
 * disruption budget find the Deployment's pods and ports; every mount names a declared volume, the configuration
 * lands where the image reads it and the server's own loader accepts it, serving the built-in and mounted
 * repositories; and a stopping pod has time for the preStop sleep and the server's drain.
 */
class ManifestSemanticsTest {
  private static final String LIVE = "/v2/health/live";
  private static final String READY = "/v2/health/ready";

  private static List<Document> documents;
  private static ImageRecipe image;
  private static Document deploymentDocument;
  private static V1Deployment deployment;
  private static V1PodSpec pod;
  private static V1Container container;
  private static V1ConfigMap configMap;

  @BeforeAll
  static void read() {
    documents = Manifests.documents(Manifests.K8S);
    image = ImageRecipe.read();
    deploymentDocument = Manifests.only(documents, "Deployment");
    deployment = KubernetesModels.read(deploymentDocument, V1Deployment.class);
    pod = deployment.getSpec().getTemplate().getSpec();
    assertThat(pod.getContainers()).as("containers of %s", deploymentDocument.where()).hasSize(1);
    container = pod.getContainers().get(0);
    configMap = KubernetesModels.read(Manifests.only(documents, "ConfigMap"), V1ConfigMap.class);
  }

  private static String where(String field) {
    return deploymentDocument.where() + " " + field;
  }

  private static Map<String, Integer> containerPorts() {
    return container.getPorts().stream()
        .collect(Collectors.toMap(V1ContainerPort::getName, V1ContainerPort::getContainerPort));
  }

  /** The container port a probe or Service names (by name or number); fails when the container has none such. */
  private static int resolve(IntOrString port, String field) {
    Map<String, Integer> ports = containerPorts();
    if (port.isInteger()) {
      assertThat(ports).as("%s: port %d among the container's ports", where(field), port.getIntValue())
          .containsValue(port.getIntValue());
      return port.getIntValue();
    }
    assertThat(ports).as("%s: port '%s' among the container's named ports", where(field), port.getStrValue())
        .containsKey(port.getStrValue());
    return ports.get(port.getStrValue());
  }

  private static void assertSelects(String selectorField, Map<String, String> selector, Map<String, String> labels) {
    assertThat(selector).as("%s", selectorField).isNotEmpty();
    assertThat(labels).as("the pod template's labels in %s, which %s must select", deploymentDocument.where(),
        selectorField).containsAllEntriesOf(selector);
  }

  private static ServerConfig config(Path folder) throws Exception {
    String key = image.configFileName();
    assertThat(configMap.getData()).as("keys of ConfigMap %s", configMap.getMetadata().getName()).containsKey(key);
    Path file = folder.resolve(key);
    Files.writeString(file, configMap.getData().get(key), StandardCharsets.UTF_8);
    return ServerConfig.load(Map.of(), List.of("--config", file.toString()));
  }

  @Test
  void probesAskTheHealthEndpointsOnTheHttpPort(@TempDir Path folder) throws Exception {
    int http = config(folder).httpPort();
    Map<String, V1Probe> probes = new LinkedHashMap<>();
    probes.put("startupProbe", container.getStartupProbe());
    probes.put("livenessProbe", container.getLivenessProbe());
    probes.put("readinessProbe", container.getReadinessProbe());
    Map<String, String> paths = Map.of("startupProbe", LIVE, "livenessProbe", LIVE, "readinessProbe", READY);
    for (Map.Entry<String, V1Probe> probe : probes.entrySet()) {
      String field = "container " + container.getName() + " " + probe.getKey();
      assertThat(probe.getValue()).as("%s", where(field)).isNotNull();
      V1HTTPGetAction get = probe.getValue().getHttpGet();
      assertThat(get).as("%s.httpGet", where(field)).isNotNull();
      assertThat(get.getPath()).as("%s.httpGet.path", where(field)).isEqualTo(paths.get(probe.getKey()));
      assertThat(resolve(get.getPort(), field + ".httpGet.port"))
          .as("%s.httpGet.port: the configuration's http_port", where(field)).isEqualTo(http);
    }
  }

  @Test
  void containerPortsAreTheImagesAndTheConfigurations(@TempDir Path folder) throws Exception {
    ServerConfig config = config(folder);
    assertThat(containerPorts().values()).as("%s vs EXPOSE in %s", where("container ports"),
        Manifests.display(ImageRecipe.DOCKERFILE)).containsExactlyInAnyOrderElementsOf(image.exposedPorts());
    assertThat(containerPorts()).as("%s vs the ConfigMap's http_port, grpc_port, metrics_port",
        where("container ports")).containsExactlyInAnyOrderEntriesOf(
        Map.of("http", config.httpPort(), "grpc", config.grpcPort(), "metrics", config.metricsPort()));
    Map<String, String> annotations = deployment.getSpec().getTemplate().getMetadata().getAnnotations();
    assertThat(annotations).as("%s", where("pod annotations"))
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/port", String.valueOf(config.metricsPort()))
        .containsEntry("prometheus.io/path", "/metrics");
  }

  @Test
  void thePodRunsAsTheImagesUserLockedDown() {
    V1PodSecurityContext podContext = pod.getSecurityContext();
    assertThat(podContext).as("%s", where("pod securityContext")).isNotNull();
    assertThat(podContext.getRunAsUser()).as("%s.runAsUser vs USER in %s", where("pod securityContext"),
        Manifests.display(ImageRecipe.DOCKERFILE)).isEqualTo((long) image.uid());
    assertThat(podContext.getRunAsGroup()).as("%s.runAsGroup vs USER's group", where("pod securityContext"))
        .isEqualTo((long) image.gid());
    assertThat(podContext.getFsGroup()).as("%s.fsGroup", where("pod securityContext")).isEqualTo((long) image.gid());
    assertThat(podContext.getRunAsNonRoot()).as("%s.runAsNonRoot", where("pod securityContext")).isTrue();
    assertThat(podContext.getSeccompProfile().getType()).as("%s.seccompProfile.type", where("pod securityContext"))
        .isEqualTo("RuntimeDefault");
    V1SecurityContext context = container.getSecurityContext();
    String field = "container " + container.getName() + " securityContext";
    assertThat(context).as("%s", where(field)).isNotNull();
    assertThat(context.getReadOnlyRootFilesystem()).as("%s.readOnlyRootFilesystem", where(field)).isTrue();
    assertThat(context.getAllowPrivilegeEscalation()).as("%s.allowPrivilegeEscalation", where(field)).isFalse();
    assertThat(context.getCapabilities().getDrop()).as("%s.capabilities.drop", where(field)).containsExactly("ALL");
    if (context.getRunAsUser() != null) {
      assertThat(context.getRunAsUser()).as("%s.runAsUser", where(field)).isEqualTo((long) image.uid());
    }
    assertThat(container.getImagePullPolicy()).as("%s", where("imagePullPolicy")).isEqualTo("IfNotPresent");
  }

  @Test
  void theServiceFindsThePodsAndTheirPorts() {
    Document document = Manifests.only(documents, "Service");
    V1Service service = KubernetesModels.read(document, V1Service.class);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertSelects(deploymentDocument.where() + " spec.selector.matchLabels",
        deployment.getSpec().getSelector().getMatchLabels(), podLabels);
    assertSelects(document.where() + " spec.selector", service.getSpec().getSelector(), podLabels);
    Map<String, Integer> ports = containerPorts();
    for (V1ServicePort port : service.getSpec().getPorts()) {
      String field = document.where() + " port " + port.getName();
      IntOrString target = port.getTargetPort();
      assertThat(target).as("%s targetPort", field).isNotNull();
      int resolved = target.isInteger() ? target.getIntValue() : ports.getOrDefault(target.getStrValue(), -1);
      assertThat(ports.values()).as("%s targetPort %s among the container ports %s of %s", field, target, ports,
          deploymentDocument.where()).contains(resolved);
      assertThat(port.getPort()).as("%s: port, the same number as its target", field).isEqualTo(resolved);
    }
    assertThat(service.getSpec().getPorts()).as("%s ports", document.where())
        .extracting(V1ServicePort::getName, V1ServicePort::getAppProtocol)
        .contains(tuple("grpc", "kubernetes.io/h2c"));
  }

  @Test
  void theAutoscalerAndDisruptionBudgetTargetTheDeployment() {
    Document hpaDocument = Manifests.only(documents, "HorizontalPodAutoscaler");
    V2HorizontalPodAutoscaler hpa = KubernetesModels.read(hpaDocument, V2HorizontalPodAutoscaler.class);
    var target = hpa.getSpec().getScaleTargetRef();
    assertThat(List.of(Objects.toString(target.getApiVersion()), target.getKind(), target.getName()))
        .as("%s spec.scaleTargetRef", hpaDocument.where())
        .containsExactly("apps/v1", "Deployment", deployment.getMetadata().getName());
    assertThat(hpa.getSpec().getMetrics()).as("%s spec.metrics", hpaDocument.where())
        .extracting(V2MetricSpec::getType, m -> m.getResource().getName())
        .containsExactly(tuple("Resource", "cpu"));
    assertThat(hpa.getSpec().getBehavior().getScaleDown().getStabilizationWindowSeconds())
        .as("%s spec.behavior.scaleDown.stabilizationWindowSeconds", hpaDocument.where()).isPositive();
    assertThat(hpa.getSpec().getMinReplicas()).as("%s spec.minReplicas vs the Deployment's replicas",
        hpaDocument.where()).isEqualTo(deployment.getSpec().getReplicas());
    assertThat(container.getResources().getRequests()).as("%s: CPU utilization needs a CPU request",
        where("resources.requests")).containsKey("cpu");

    Document pdbDocument = Manifests.only(documents, "PodDisruptionBudget");
    V1PodDisruptionBudget pdb = KubernetesModels.read(pdbDocument, V1PodDisruptionBudget.class);
    Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
    assertSelects(pdbDocument.where() + " spec.selector.matchLabels", pdb.getSpec().getSelector().getMatchLabels(),
        podLabels);
    assertThat(pdb.getSpec().getMinAvailable().getIntValue())
        .as("%s spec.minAvailable: below the minimum replicas, or no node could ever be drained",
            pdbDocument.where()).isLessThan(hpa.getSpec().getMinReplicas());
  }

  @Test
  void everyMountNamesADeclaredVolumeAndTheConfigurationLandsWhereTheImageReadsIt() {
    Map<String, V1Volume> volumes = pod.getVolumes().stream().collect(Collectors.toMap(V1Volume::getName, v -> v));
    Map<String, V1VolumeMount> mounts = container.getVolumeMounts().stream()
        .collect(Collectors.toMap(V1VolumeMount::getMountPath, m -> m));
    for (V1VolumeMount mount : container.getVolumeMounts()) {
      assertThat(volumes.keySet()).as("%s: volumeMount %s names a volume of spec.template.spec.volumes",
          deploymentDocument.where(), mount.getMountPath()).contains(mount.getName());
    }
    V1VolumeMount config = mounts.get(image.configFolder());
    assertThat(config).as("%s: a mount at %s, the folder of the image's SERVAL_CONFIG %s",
        deploymentDocument.where(), image.configFolder(), image.configFile()).isNotNull();
    assertThat(volumes.get(config.getName()).getConfigMap().getName())
        .as("%s: the ConfigMap mounted at %s", deploymentDocument.where(), image.configFolder())
        .isEqualTo(configMap.getMetadata().getName());

    V1VolumeMount tmp = mounts.get("/tmp");
    assertThat(tmp).as("%s: a writable /tmp beside the read-only root file system", deploymentDocument.where())
        .isNotNull();
    assertThat(volumes.get(tmp.getName()).getEmptyDir()).as("%s: volume %s is an emptyDir",
        deploymentDocument.where(), tmp.getName()).isNotNull();

    Document claimDocument = Manifests.only(documents, "PersistentVolumeClaim");
    V1PersistentVolumeClaim claim = KubernetesModels.read(claimDocument, V1PersistentVolumeClaim.class);
    List<V1Volume> claimed = pod.getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null).toList();
    assertThat(claimed).as("%s: volumes from a claim", deploymentDocument.where()).hasSize(1);
    assertThat(claimed.get(0).getPersistentVolumeClaim().getClaimName())
        .as("%s: claimName of volume %s", deploymentDocument.where(), claimed.get(0).getName())
        .isEqualTo(claim.getMetadata().getName());
    V1VolumeMount repository = container.getVolumeMounts().stream()
        .filter(m -> m.getName().equals(claimed.get(0).getName())).findFirst().orElseThrow();
    assertThat(repository.getReadOnly()).as("%s: volumeMount %s is read-only", deploymentDocument.where(),
        repository.getMountPath()).isTrue();
  }

  @Test
  void theServerAcceptsTheConfigurationAndServesTheBuiltInAndMountedRepositories(@TempDir Path folder)
      throws Exception {
    ServerConfig config = config(folder);
    V1PersistentVolumeClaim claim =
        KubernetesModels.read(Manifests.only(documents, "PersistentVolumeClaim"), V1PersistentVolumeClaim.class);
    String claimVolume = pod.getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null
        && claim.getMetadata().getName().equals(v.getPersistentVolumeClaim().getClaimName()))
        .findFirst().orElseThrow().getName();
    String mounted = container.getVolumeMounts().stream().filter(m -> m.getName().equals(claimVolume))
        .findFirst().orElseThrow().getMountPath();
    assertThat(config.modelRepositories()).as("model_repositories of the ConfigMap's %s: the image's built-in"
        + " models (COPY models %s) and the claim's mount", image.configFileName(), image.builtInModels())
        .containsExactly(Path.of(image.builtInModels()), Path.of(mounted));
    assertThat(config.modelControlMode()).as("model_control_mode of the ConfigMap's %s", image.configFileName())
        .isEqualTo("poll");
  }

  @Test
  void aStoppingPodHasTimeForThePreStopSleepAndTheDrain(@TempDir Path folder) throws Exception {
    int drain = config(folder).shutdownTimeoutSeconds();
    V1LifecycleHandler preStop = container.getLifecycle().getPreStop();
    assertThat(preStop.getExec()).as("%s: preStop uses the kubelet's sleep handler, not a command the image may"
        + " lack", where("lifecycle.preStop")).isNull();
    assertThat(preStop.getSleep()).as("%s.sleep", where("lifecycle.preStop")).isNotNull();
    long sleep = preStop.getSleep().getSeconds();
    assertThat(sleep).as("%s.sleep.seconds", where("lifecycle.preStop")).isPositive();
    assertThat(pod.getTerminationGracePeriodSeconds())
        .as("%s: terminationGracePeriodSeconds vs the preStop sleep (%d s) plus shutdown_timeout_seconds (%d s),"
            + " which it must exceed", deploymentDocument.where(), sleep, drain)
        .isGreaterThan(sleep + drain);
  }
}
