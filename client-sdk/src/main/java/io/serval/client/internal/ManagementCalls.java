package io.serval.client.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.endpoint.EndpointGroup;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import io.serval.client.ServalClientException;
import io.serval.client.VersionLabels;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * Serval's management API ({@code /v1/models/.../labels}, {@code /v1/routes}): JSON over HTTP on the management
 * listener, whichever transport the v2 calls use, since it has no gRPC form.
 */
public final class ManagementCalls {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final WebClient client;

  public ManagementCalls(ClientSettings settings) {
    EndpointGroup endpoints = settings.management() != null ? settings.management() : settings.endpoints();
    this.client = HttpCalls.webClient(settings, endpoints,
        settings.management() != null ? settings.managementToken() : settings.token());
  }

  public CompletableFuture<VersionLabels> labels(String model) {
    return call(HttpMethod.GET, "/v1/models/" + Paths.segment(model) + "/labels", null)
        .thenApply(ManagementCalls::labels);
  }

  public CompletableFuture<VersionLabels> setLabel(String model, String label, long version) {
    return call(HttpMethod.PUT, "/v1/models/" + Paths.segment(model) + "/labels/" + Paths.segment(label),
        MAPPER.createObjectNode().put("version", version)).thenApply(ManagementCalls::labels);
  }

  public CompletableFuture<VersionLabels> removeLabel(String model, String label) {
    return call(HttpMethod.DELETE, "/v1/models/" + Paths.segment(model) + "/labels/" + Paths.segment(label), null)
        .thenApply(ManagementCalls::labels);
  }

  public CompletableFuture<VersionLabels> setDefaultVersion(String model, String version) {
    return call(HttpMethod.PUT, "/v1/models/" + Paths.segment(model) + "/default_version",
        MAPPER.createObjectNode().put("version", version)).thenApply(ManagementCalls::labels);
  }

  public CompletableFuture<Map<String, Integer>> routeWeights(String route) {
    return call(HttpMethod.GET, "/v1/routes", null).thenApply(all -> {
      for (JsonNode entry : all) {
        if (entry.path("name").asText().equals(route)) {
          return weights(entry);
        }
      }
      throw ServalClientException.ofHttp(404, "no route '" + route + "' (expected one of: " + names(all) + ")",
          null);
    });
  }

  public CompletableFuture<Map<String, Integer>> setRouteWeights(String route, Map<String, Integer> weights) {
    ObjectNode body = MAPPER.createObjectNode();
    weights.forEach(body::put);
    return call(HttpMethod.PUT, "/v1/routes/" + Paths.segment(route) + "/weights", body)
        .thenApply(ManagementCalls::weights);
  }

  private CompletableFuture<JsonNode> call(HttpMethod method, String path, @Nullable ObjectNode body) {
    var request = client.prepare().method(method).path(path);
    if (body != null) {
      request.content(MediaType.JSON, body.toString());
    }
    return Futures.typed(request.execute().aggregate(), response -> {
      try {
        return MAPPER.readTree(HttpCalls.success(response).contentUtf8());
      } catch (JsonProcessingException e) {
        throw ServalClientException.unexpected("the management answer is not JSON: " + e.getMessage(), e);
      }
    });
  }

  private static VersionLabels labels(JsonNode node) {
    Map<String, Long> labels = new LinkedHashMap<>();
    node.path("labels").properties().forEach(field -> labels.put(field.getKey(), field.getValue().asLong()));
    JsonNode defaultVersion = node.path("default_version");
    return new VersionLabels(node.path("model").asText(), Collections.unmodifiableMap(labels),
        defaultVersion.isNull() || defaultVersion.isMissingNode() || defaultVersion.asText().isEmpty()
            ? null : defaultVersion.asText());
  }

  private static Map<String, Integer> weights(JsonNode route) {
    Map<String, Integer> weights = new LinkedHashMap<>();
    for (JsonNode variant : route.path("variants")) {
      weights.put(variant.path("name").asText(), variant.path("weight").asInt());
    }
    return Collections.unmodifiableMap(weights);
  }

  private static String names(JsonNode all) {
    StringBuilder names = new StringBuilder();
    for (JsonNode entry : all) {
      names.append(names.length() == 0 ? "" : ", ").append(entry.path("name").asText());
    }
    return names.toString();
  }
}
