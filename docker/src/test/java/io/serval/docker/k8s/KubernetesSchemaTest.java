package io.serval.docker.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.serval.docker.k8s.Manifests.Document;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every document of the plain Kubernetes manifests ({@code docker/k8s/*.yaml}, not {@code kserve/}) reads strictly
 * into the Kubernetes Java client's model of its apiVersion and kind: no key the API does not define, at any depth,
 * and every value of its field's type (see {@link KubernetesModels}). The negative cases prove the strictness on
 * faulty copies of the real file made in memory: a misspelt key at the top of a spec, deep in a container and in
 * a list item, values of the wrong type that the client would otherwise convert silently, an unknown kind and a
 * duplicate key; each failure names the file, the document and the field.
 */
class KubernetesSchemaTest {
  private static final Path SERVAL = Manifests.K8S.resolve("serval.yaml");

  @Test
  void everyDocumentReadsStrictlyIntoItsModel() {
    List<Document> documents = Manifests.documents(Manifests.K8S);
    assertThat(documents).as("documents in %s", Manifests.K8S).isNotEmpty();
    for (Document document : documents) {
      assertThat(KubernetesModels.problems(document)).as("problems of %s", document.where()).isEmpty();
    }
    assertThat(documents.stream().map(Document::kind).sorted().toList())
        .as("kinds in %s", Manifests.K8S)
        .containsExactly("ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PersistentVolumeClaim",
            "PodDisruptionBudget", "Service");
  }

  static Stream<Arguments> faultyCopies() {
    return Stream.of(
        Arguments.of("a misspelt key at the top of the Deployment's spec", "  replicas: 2\n", "  replicsa: 2\n",
            "document 3 (Deployment serval)", "unknown field 'replicsa' at spec.replicsa: V1DeploymentSpec"),
        Arguments.of("a misspelt key deep in the container", "          readinessProbe:\n",
            "          readinesProbe:\n", "document 3 (Deployment serval)",
            "unknown field 'readinesProbe' at spec.template.spec.containers[0].readinesProbe: V1Container"),
        Arguments.of("a misspelt key in the preStop sleep handler", "                seconds: 10\n",
            "                secnds: 10\n", "document 3 (Deployment serval)",
            "unknown field 'secnds' at spec.template.spec.containers[0].lifecycle.preStop.sleep.secnds:"
                + " V1SleepAction"),
        Arguments.of("a misspelt key in a list item of the Service", "      appProtocol: kubernetes.io/h2c\n",
            "      appProtocl: kubernetes.io/h2c\n", "document 4 (Service serval)",
            "unknown field 'appProtocl' at spec.ports[1].appProtocl: V1ServicePort"),
        Arguments.of("a missing required field", "    name: serval\n  minReplicas: 2\n", "  minReplicas: 2\n",
            "document 5 (HorizontalPodAutoscaler serval)", "required field 'name' missing in spec.scaleTargetRef"),
        Arguments.of("an unquoted annotation (a boolean where a string belongs)", "prometheus.io/scrape: \"true\"",
            "prometheus.io/scrape: true", "document 3 (Deployment serval)",
            "spec.template.metadata.annotations.prometheus.io/scrape: boolean true comes back as string \"true\""),
        Arguments.of("a string where a boolean belongs", "      enableServiceLinks: false\n",
            "      enableServiceLinks: \"no\"\n", "document 3 (Deployment serval)",
            "spec.template.spec.enableServiceLinks: string \"no\" comes back as boolean false"),
        Arguments.of("a quoted number", "  replicas: 2\n", "  replicas: \"2\"\n", "document 3 (Deployment serval)",
            "spec.replicas: string \"2\" comes back as number 2"),
        Arguments.of("a quantity the model rewrites", "            requests:\n              cpu: \"1\"\n",
            "            requests:\n              cpu: \"0.5\"\n", "document 3 (Deployment serval)",
            "spec.template.spec.containers[0].resources.requests.cpu: string \"0.5\" comes back as string \"500m\""),
        Arguments.of("an unknown kind", "kind: PodDisruptionBudget\n", "kind: PodDisruptionBudgt\n",
            "document 6 (PodDisruptionBudgt serval)", "apiVersion 'policy/v1' kind 'PodDisruptionBudgt' is none"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("faultyCopies")
  void aFaultyCopyFailsNamingTheFileDocumentAndField(String fault, String from, String to, String document,
      String expected) {
    String file = Manifests.display(SERVAL);
    List<Document> documents = Manifests.parse(file, Manifests.replaceOnce(SERVAL, from, to));
    List<String> problems = documents.stream().flatMap(d -> KubernetesModels.problems(d).stream()).toList();
    assertThat(problems).as("problems found in a copy of %s with %s", file, fault).hasSize(1);
    assertThat(problems.get(0)).as("the message for %s", fault)
        .startsWith(file + " " + document + ": ")
        .contains(expected);
  }

  @Test
  void aDuplicateKeyIsRefused() {
    String text = Manifests.replaceOnce(SERVAL, "  replicas: 2\n", "  replicas: 2\n  replicas: 3\n");
    assertThatThrownBy(() -> Manifests.parse(Manifests.display(SERVAL), text))
        .as("a copy of serval.yaml with replicas given twice")
        .hasMessageContaining(Manifests.display(SERVAL))
        .hasMessageContaining("Duplicate field 'replicas'");
  }
}
