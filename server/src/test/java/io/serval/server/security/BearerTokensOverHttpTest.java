package io.serval.server.security;

import static io.serval.server.security.SecuredServer.INFER_TOKEN;
import static io.serval.server.security.SecuredServer.MANAGE_TOKEN;
import static io.serval.server.security.SecuredServer.METRICS_TOKEN;
import static io.serval.server.security.SecuredServer.MODEL;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.auth.AuthToken;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer tokens and scopes on the v2 HTTP endpoints and {@code /metrics}, against a real server. */
class BearerTokensOverHttpTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String INFER = "/v2/models/" + MODEL + "/infer";
  private static final String INFER_BODY =
      "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";

  @TempDir static Path dir;
  private static SecuredServer server;

  @BeforeAll
  static void start() throws Exception {
    server = SecuredServer.start(dir, SecuredServer.TOKENS_YAML);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static BlockingWebClient client(int port, String token) {
    var builder = WebClient.builder(server.uri("http", port));
    if (token != null) {
      builder.auth(AuthToken.ofOAuth2(token));
    }
    return builder.build().blocking();
  }

  private static AggregatedHttpResponse infer(String token) {
    return client(server.httpPort, token).prepare().post(INFER).content(MediaType.JSON, INFER_BODY).execute();
  }

  private static String error(AggregatedHttpResponse response) throws Exception {
    JsonNode body = MAPPER.readTree(response.contentUtf8());
    assertThat(body.path("request_id").asText()).as("request_id of %s", body).isNotEmpty();
    return body.path("error").asText();
  }

  @Test
  void infersWithATokenThatHasTheInferScope() throws Exception {
    AggregatedHttpResponse response = infer(INFER_TOKEN);

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
    JsonNode output = MAPPER.readTree(response.contentUtf8()).path("outputs").get(0);
    assertThat(output.path("data").toString()).isEqualTo("[3.0,5.0,7.0,9.0]");
  }

  @Test
  void refusesInferWithoutToken() throws Exception {
    AggregatedHttpResponse response = infer(null);

    assertThat(response.status()).isEqualTo(HttpStatus.UNAUTHORIZED);
    assertThat(response.headers().get(HttpHeaderNames.WWW_AUTHENTICATE)).startsWith("Bearer");
    assertThat(response.contentType()).isNotNull();
    assertThat(response.contentType().is(MediaType.JSON)).isTrue();
    assertThat(error(response)).contains("bearer token", "'infer' scope");
  }

  @Test
  void refusesInferWithAnUnknownToken() throws Exception {
    AggregatedHttpResponse response = infer("not-a-configured-token");

    assertThat(response.status()).isEqualTo(HttpStatus.UNAUTHORIZED);
    assertThat(response.headers().get(HttpHeaderNames.WWW_AUTHENTICATE))
        .startsWith("Bearer").contains("error=\"invalid_token\"");
    assertThat(error(response)).isEqualTo("the bearer token is not valid");
  }

  @Test
  void refusesInferWithATokenWithoutTheInferScope() throws Exception {
    AggregatedHttpResponse response = infer(METRICS_TOKEN);

    assertThat(response.status()).isEqualTo(HttpStatus.FORBIDDEN);
    assertThat(response.headers().get(HttpHeaderNames.WWW_AUTHENTICATE)).contains("insufficient_scope");
    assertThat(error(response))
        .isEqualTo("token 'prometheus' does not have the 'infer' scope that this endpoint needs");
  }

  @Test
  void refusesOtherAuthorizationSchemes() throws Exception {
    AggregatedHttpResponse response = WebClient.of(server.uri("http", server.httpPort)).blocking().execute(
        RequestHeaders.builder(HttpMethod.GET, "/v2").set(HttpHeaderNames.AUTHORIZATION, "Basic " + INFER_TOKEN)
            .build());

    assertThat(response.status()).isEqualTo(HttpStatus.UNAUTHORIZED);
    assertThat(error(response)).contains("needs a bearer token");
  }

  @Test
  void acceptsTheBearerSchemeInAnyCase() {
    AggregatedHttpResponse response = WebClient.of(server.uri("http", server.httpPort)).blocking().execute(
        RequestHeaders.builder(HttpMethod.GET, "/v2").set(HttpHeaderNames.AUTHORIZATION, "bearer " + INFER_TOKEN)
            .build());

    assertThat(response.status()).isEqualTo(HttpStatus.OK);
  }

  @Test
  void metadataAndRepositoryIndexNeedTheInferScope() {
    for (String path : new String[] {"/v2", "/v2/models/" + MODEL, "/v2/models/" + MODEL + "/config",
        "/v2/models/" + MODEL + "/ready", "/v2/models/stats"}) {
      assertThat(client(server.httpPort, null).get(path).status()).as(path).isEqualTo(HttpStatus.UNAUTHORIZED);
      assertThat(client(server.httpPort, MANAGE_TOKEN).get(path).status()).as(path).isEqualTo(HttpStatus.FORBIDDEN);
      assertThat(client(server.httpPort, INFER_TOKEN).get(path).status()).as(path).isEqualTo(HttpStatus.OK);
    }
    assertThat(client(server.httpPort, null).post("/v2/repository/index", "{}").status())
        .isEqualTo(HttpStatus.UNAUTHORIZED);
    AggregatedHttpResponse index = client(server.httpPort, INFER_TOKEN).post("/v2/repository/index", "{}");
    assertThat(index.status()).isEqualTo(HttpStatus.OK);
    assertThat(index.contentUtf8()).contains("\"name\":\"" + MODEL + "\"");
  }

  @Test
  void unknownPathsNeedATokenBeforeTheyAreReportedMissing() {
    assertThat(client(server.httpPort, null).get("/v2/nothing/here").status()).isEqualTo(HttpStatus.UNAUTHORIZED);
    assertThat(client(server.httpPort, INFER_TOKEN).get("/v2/nothing/here").status())
        .isEqualTo(HttpStatus.NOT_FOUND);
  }

  @Test
  void healthEndpointsStayOpenForProbes() {
    for (int port : new int[] {server.httpPort, server.grpcPort, server.metricsPort}) {
      assertThat(client(port, null).get("/v2/health/live").status()).isEqualTo(HttpStatus.OK);
      assertThat(client(port, null).get("/v2/health/ready").status()).isEqualTo(HttpStatus.OK);
      assertThat(client(port, "not-a-configured-token").get("/v2/health/live").status()).isEqualTo(HttpStatus.OK);
    }
  }

  @Test
  void metricsNeedTheMetricsScope() throws Exception {
    AggregatedHttpResponse anonymous = client(server.metricsPort, null).get("/metrics");
    AggregatedHttpResponse inferOnly = client(server.metricsPort, INFER_TOKEN).get("/metrics");
    AggregatedHttpResponse scraper = client(server.metricsPort, METRICS_TOKEN).get("/metrics");

    assertThat(anonymous.status()).isEqualTo(HttpStatus.UNAUTHORIZED);
    assertThat(error(anonymous)).contains("'metrics' scope");
    assertThat(inferOnly.status()).isEqualTo(HttpStatus.FORBIDDEN);
    assertThat(error(inferOnly)).contains("'metrics' scope");
    assertThat(scraper.status()).isEqualTo(HttpStatus.OK);
    assertThat(scraper.contentUtf8()).contains("jvm_memory_used_bytes");
  }

  @Test
  void everyPortAppliesTheSameRules() {
    for (int port : new int[] {server.httpPort, server.grpcPort, server.metricsPort}) {
      assertThat(client(port, null).get("/v2").status()).isEqualTo(HttpStatus.UNAUTHORIZED);
      assertThat(client(port, INFER_TOKEN).get("/v2").status()).isEqualTo(HttpStatus.OK);
      assertThat(client(port, null).get("/metrics").status()).isEqualTo(HttpStatus.UNAUTHORIZED);
    }
  }

  @Test
  void refusesUnauthenticatedInferBeforeItTakesAdmissionBudget(@TempDir Path other) throws Exception {
    String smallBudget = "--limits.max_inflight_bytes=16";
    try (SecuredServer small = SecuredServer.start(other, SecuredServer.TOKENS_YAML, smallBudget)) {
      BlockingWebClient anonymous = WebClient.of(small.uri("http", small.httpPort)).blocking();
      BlockingWebClient authorized = WebClient.builder(small.uri("http", small.httpPort))
          .auth(AuthToken.ofOAuth2(INFER_TOKEN)).build().blocking();

      // Over the byte budget: refused by admission control, but only once the caller is known.
      assertThat(authorized.prepare().post(INFER).content(MediaType.JSON, INFER_BODY).execute().status())
          .isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
      assertThat(anonymous.prepare().post(INFER).content(MediaType.JSON, INFER_BODY).execute().status())
          .isEqualTo(HttpStatus.UNAUTHORIZED);
    }
  }

  @Test
  void docsNeedTheInferScope() {
    assertThat(client(server.httpPort, null).get("/docs/").status()).isEqualTo(HttpStatus.UNAUTHORIZED);
    assertThat(client(server.httpPort, INFER_TOKEN).get("/docs/").status()).isEqualTo(HttpStatus.OK);
  }
}
