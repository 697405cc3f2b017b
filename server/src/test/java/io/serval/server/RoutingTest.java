package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.auth.AuthToken;
import io.serval.server.testengine.TestEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A/B routes over a running server: route {@code ab} splits 90/10 between versions 1 and 2 of the affine model
 * (y = 2x + v, so every answer shows which version computed it); route {@code shadowed} answers from version 1 and
 * copies each request to a shadow on the test engine, which blocks, fails or agrees as a request's data says.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RoutingTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String MANAGE_TOKEN = "manage-token-for-routing-tests";

  private RunningServer server;
  private BlockingWebClient http;
  private BlockingWebClient manage;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Path repo = Files.createDirectories(dir.resolve("models"));
    Path model = Files.createDirectories(repo.resolve("affine"));
    Files.writeString(model.resolve("config.yaml"), "max_batch_size: 8\nversion_policy: {all: true}\n"
        + "version_labels: {stable: 1}\n");
    for (int version = 1; version <= 2; version++) {
      Files.write(Files.createDirectories(model.resolve(Integer.toString(version))).resolve("model.onnx"),
          TestRepositories.affineWithOffset(version));
    }
    TestEngine.model(repo, "shadow_model", "max_batch_size: 8\ninstances: 2\n");
    route(repo, "ab", """
        variants:
          - {name: a, model: affine, version: 1, weight: 90}
          - {name: b, model: affine, version: 2, weight: 10}
        key_header: X-User-Id
        """);
    route(repo, "shadowed", """
        variants:
          - {name: primary, model: affine, version: 1, weight: 1}
        shadow: {name: copy, model: shadow_model, max_inflight: 2, timeout_ms: 60000}
        """);
    String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(MANAGE_TOKEN.getBytes(StandardCharsets.UTF_8)));
    Path config = Files.writeString(dir.resolve("serval.yaml"),
        "auth:\n  tokens:\n    - {name: ops, sha256: " + hash + ", scopes: [manage, infer, metrics]}\n");
    server = RunningServer.start(repo, "--config=" + config, "--model_control_mode=none");
    http = WebClient.builder(server.httpUri()).auth(AuthToken.ofOAuth2(MANAGE_TOKEN)).build().blocking();
    manage = WebClient.builder("http://127.0.0.1:" + server.server.ports().get(3))
        .auth(AuthToken.ofOAuth2(MANAGE_TOKEN)).build().blocking();
  }

  @AfterAll
  void stop() {
    TestEngine.openGate();
    server.close();
  }

  @BeforeEach
  void resetWeights() {
    TestEngine.reset();
    assertThat(manage.prepare().put("/v1/routes/ab/weights").content(MediaType.JSON, "{\"a\": 90, \"b\": 10}")
        .execute().status()).isEqualTo(HttpStatus.OK);
  }

  private static void route(Path repo, String name, String yaml) throws IOException {
    Files.writeString(Files.createDirectories(repo.resolve(name)).resolve("route.yaml"), yaml);
  }

  /** The variant that answered a request of {@code a}, checked against the version its output shows. */
  private String variant(String route, float a, Map<String, String> headers) throws IOException {
    var request = http.prepare().post("/v2/models/" + route + "/infer").content(MediaType.JSON,
        TestEngine.jsonRequest(a));
    headers.forEach(request::header);
    AggregatedHttpResponse response = request.execute();
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
    JsonNode body = MAPPER.readTree(response.contentUtf8());
    String variant = body.get("parameters").get("serval_variant").asText();
    assertThat(response.headers().get("serval-variant")).isEqualTo(variant);
    double offset = body.get("outputs").get(0).get("data").get(0).doubleValue() - 2 * a;
    if (route.equals("ab")) {
      assertThat(offset).as("variant " + variant + " answered by version").isEqualTo(variant.equals("a") ? 1 : 2);
      assertThat(body.get("model_version").asText()).isEqualTo(variant.equals("a") ? "1" : "2");
    }
    return variant;
  }

  @Test
  void weightsOfNinetyAndTenSplitTenThousandRequestsWithinTwoPoints() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(4);
    AtomicInteger toB = new AtomicInteger();
    List<Future<?>> running = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      running.add(clients.submit(() -> {
        for (int i = 0; i < 2_500; i++) {
          if (variant("ab", i % 100, Map.of()).equals("b")) {
            toB.incrementAndGet();
          }
        }
        return null;
      }));
    }
    for (Future<?> client : running) {
      client.get(5, TimeUnit.MINUTES);
    }
    clients.shutdown();

    double share = toB.get() / 10_000.0;
    System.out.printf("routing: %d of 10000 requests to variant b (weight 10%%)%n", toB.get());
    assertThat(share).isBetween(0.08, 0.12);
  }

  @Test
  void aKeyKeepsItsVariantAndASmallWeightShiftMovesFewKeysOneWay() throws Exception {
    Map<String, String> before = new HashMap<>();
    for (int user = 0; user < 300; user++) {
      String key = "user-" + user;
      String first = variant("ab", 1, Map.of("serval-route-key", key));
      assertThat(variant("ab", 2, Map.of("serval-route-key", key))).as(key).isEqualTo(first);
      assertThat(variant("ab", 3, Map.of("x-user-id", key))).as(key + " by the route's key_header").isEqualTo(first);
      before.put(key, first);
    }
    assertThat(manage.prepare().put("/v1/routes/ab/weights").content(MediaType.JSON, "{\"a\": 85, \"b\": 15}")
        .execute().status()).isEqualTo(HttpStatus.OK);

    int moved = 0;
    for (Map.Entry<String, String> user : before.entrySet()) {
      String after = variant("ab", 1, Map.of("serval-route-key", user.getKey()));
      if (!after.equals(user.getValue())) {
        assertThat(after).as(user.getKey() + " moved, and only towards the variant that grew").isEqualTo("b");
        moved++;
      }
    }
    System.out.printf("routing: 90/10 -> 85/15 moved %d of 300 keys%n", moved);
    // Expected: the keys b gains, 15% - 10% = 5% of all (15 of 300), with sampling noise; never a fifth.
    assertThat(moved).isBetween(1, 60);
  }

  @Test
  void aVariantNamedByHeaderOrParameterWinsAndAnUnknownOneIsRefused() throws Exception {
    for (int i = 0; i < 20; i++) {
      assertThat(variant("ab", i, Map.of("serval-variant", "b"))).isEqualTo("b");
    }
    AggregatedHttpResponse byParameter = http.prepare().post("/v2/models/ab/infer").content(MediaType.JSON,
        "{\"parameters\":{\"serval_variant\":\"b\"},\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
            + "\"shape\":[1,4],\"data\":[1,1,1,1]}]}").execute();
    assertThat(byParameter.headers().get("serval-variant")).isEqualTo("b");

    AggregatedHttpResponse unknown = http.prepare().post("/v2/models/ab/infer").header("serval-variant", "c")
        .content(MediaType.JSON, TestEngine.jsonRequest(1)).execute();
    assertThat(unknown.status()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(MAPPER.readTree(unknown.contentUtf8()).get("error").asText())
        .isEqualTo("route 'ab' has no variant 'c' (variants: a, b)");
  }

  @Test
  void weightChangesAreCheckedAndTheRouteIsServedLikeAModel() throws Exception {
    AggregatedHttpResponse missing = manage.prepare().put("/v1/routes/ab/weights").content(MediaType.JSON,
        "{\"a\": 50}").execute();
    assertThat(missing.status()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(missing.contentUtf8()).contains("route 'ab': no weight for variant 'b' (expected: a weight for each"
        + " of a, b)");
    assertThat(manage.prepare().put("/v1/routes/ab/weights").content(MediaType.JSON, "{\"a\": 0, \"b\": 0}")
        .execute().contentUtf8()).contains("every weight is 0");
    assertThat(manage.prepare().put("/v1/routes/nope/weights").content(MediaType.JSON, "{}").execute().status())
        .isEqualTo(HttpStatus.NOT_FOUND);
    assertThat(http.prepare().put("/v1/routes/ab/weights").content(MediaType.JSON, "{\"a\": 1, \"b\": 1}")
        .execute().status()).as("not on the inference port").isEqualTo(HttpStatus.NOT_FOUND);

    JsonNode metadata = MAPPER.readTree(http.get("/v2/models/ab").contentUtf8());
    assertThat(metadata.get("platform").asText()).isEqualTo("serval_route");
    assertThat(metadata.get("inputs").toString()).contains("\"name\":\"x\"");
    assertThat(http.get("/v2/models/ab/ready").status()).isEqualTo(HttpStatus.OK);
    JsonNode routes = MAPPER.readTree(manage.get("/v1/routes").contentUtf8());
    assertThat(routes.toString()).contains("\"name\":\"a\",\"target\":\"'affine' version 1\",\"weight\":90");
  }

  @Test
  void theShadowGetsCopiesButNeverSlowsOrFailsTheCaller() throws Exception {
    // The shadow (test engine) blocks on these requests' data; the primary (ONNX affine) answers at once.
    for (int i = 0; i < 6; i++) {
      assertThat(variant("shadowed", TestEngine.BLOCK, Map.of())).isEqualTo("primary");
    }
    assertThat(TestEngine.BLOCKED.tryAcquire(2, 30, TimeUnit.SECONDS)).as("two copies blocked in the shadow")
        .isTrue();
    assertThat(metric("serval_route_shadow_requests_total{outcome=\"dropped\",route=\"shadowed\"}"))
        .as("copies past max_inflight 2 dropped").isEqualTo(4);

    TestEngine.openGate();
    awaitMetric("serval_route_shadow_requests_total{outcome=\"success\",route=\"shadowed\"}", 2);
    // The blocked copies agree: the test engine also computes 2x + 1.
    awaitMetric("serval_route_shadow_comparisons_total{result=\"agreed\",route=\"shadowed\"}", 2);

    // A copy the shadow fails on: the caller still gets its answer.
    assertThat(variant("shadowed", TestEngine.POISON, Map.of())).isEqualTo("primary");
    awaitMetric("serval_route_shadow_requests_total{outcome=\"failure\",route=\"shadowed\"}", 1);
  }

  private double metric(String series) {
    return http.get("/metrics").contentUtf8().lines().filter(line -> line.startsWith(series + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).findFirst()
        .orElse(0);
  }

  private void awaitMetric(String series, double atLeast) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (metric(series) < atLeast) {
      assertThat(System.nanoTime()).as(series + " reaching " + atLeast).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private JsonNode inferAffine(String version) throws IOException {
    String path = version.isEmpty() ? "/v2/models/affine/infer" : "/v2/models/affine/versions/" + version + "/infer";
    AggregatedHttpResponse response = http.prepare().post(path).content(MediaType.JSON, TestEngine.jsonRequest(5))
        .execute();
    return MAPPER.readTree(response.contentUtf8());
  }

  @Test
  void labelsNameVersionsInRequestsAndTheDefaultVersionCanBeOne() throws Exception {
    assertThat(inferAffine("stable").get("model_version").asText()).as("a label from config.yaml").isEqualTo("1");
    assertThat(manage.prepare().put("/v1/models/affine/labels/canary").content(MediaType.JSON, "{\"version\": 2}")
        .execute().contentUtf8()).isEqualTo(
            "{\"model\":\"affine\",\"labels\":{\"canary\":2,\"stable\":1},\"default_version\":null}");

    JsonNode canary = inferAffine("canary");
    assertThat(canary.get("model_version").asText()).isEqualTo("2");
    assertThat(canary.get("outputs").get(0).get("data").get(0).doubleValue()).isEqualTo(2 * 5 + 2);
    assertThat(inferAffine("").get("model_version").asText()).as("the highest by default").isEqualTo("2");

    manage.prepare().put("/v1/models/affine/default_version").content(MediaType.JSON, "{\"version\": \"stable\"}")
        .execute();
    assertThat(inferAffine("").get("model_version").asText()).isEqualTo("1");
    AggregatedHttpResponse removeDefault = manage.delete("/v1/models/affine/labels/stable");
    assertThat(removeDefault.status()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(removeDefault.contentUtf8()).contains("label 'stable' is model 'affine''s default version");
    assertThat(inferAffine("nope").get("error").asText()).isEqualTo("model 'affine': version 'nope' is not a version"
        + " number or one of its labels (labels: canary = 2, stable = 1; expected: digits, a label, or no version)");
    assertThat(manage.prepare().put("/v1/models/affine/default_version").content(MediaType.JSON,
        "{\"version\": \"beta\"}").execute().contentUtf8())
        .contains("'beta' is neither a version number nor a label of model 'affine' (labels: canary, stable)");

    manage.prepare().put("/v1/models/affine/default_version").content(MediaType.JSON, "{\"version\": null}")
        .execute();
    assertThat(manage.delete("/v1/models/affine/labels/canary").status()).isEqualTo(HttpStatus.OK);
    assertThat(inferAffine("").get("model_version").asText()).isEqualTo("2");
  }
}
