package io.serval.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.serval.server.config.ServerConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenHashTest {
  @Test
  void hashesLikeSha256sum() {
    // printf %s test | sha256sum
    assertThat(TokenHash.sha256Hex("test"))
        .isEqualTo("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  }

  @Test
  void generatesDistinctUrlSafeTokens() {
    Set<String> tokens = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      String token = TokenHash.generate();
      assertThat(token).hasSize(43).matches("[A-Za-z0-9_-]+");
      tokens.add(token);
    }
    assertThat(tokens).hasSize(100);
  }

  @Test
  void findsTheHolderOfAConfiguredTokenOnly() {
    BearerTokens tokens = new BearerTokens(List.of(
        new ServerConfig.Token("ci", TokenHash.sha256Hex("a"), Set.of("infer")),
        new ServerConfig.Token("ops", TokenHash.sha256Hex("b"), Set.of("manage", "metrics"))));

    assertThat(tokens.find("a")).isEqualTo(new BearerTokens.Holder("ci", Set.of(Scope.INFER)));
    assertThat(tokens.find("b")).isEqualTo(new BearerTokens.Holder("ops", Set.of(Scope.MANAGE, Scope.METRICS)));
    assertThat(tokens.find("c")).isNull();
    assertThat(tokens.find(TokenHash.sha256Hex("a"))).as("the hash is not the token").isNull();
    assertThat(tokens.anyWith(Scope.MANAGE)).isTrue();
    assertThat(new BearerTokens(List.of()).isEmpty()).isTrue();
  }

  @Test
  void classifiesEndpointsByTheScopeTheyNeed() {
    assertThat(Endpoints.scopeNeeded("/v2/health/live")).isNull();
    assertThat(Endpoints.scopeNeeded("/v2/health/ready")).isNull();
    assertThat(Endpoints.scopeNeeded("/grpc.health.v1.Health/Check")).isNull();
    assertThat(Endpoints.scopeNeeded("/inference.GRPCInferenceService/ServerLive")).isNull();
    assertThat(Endpoints.scopeNeeded("/metrics")).isEqualTo(Scope.METRICS);
    assertThat(Endpoints.scopeNeeded("/v2/repository/models/m/load")).isEqualTo(Scope.MANAGE);
    assertThat(Endpoints.scopeNeeded("/v2/repository/models/m/unload")).isEqualTo(Scope.MANAGE);
    assertThat(Endpoints.scopeNeeded("/inference.GRPCInferenceService/RepositoryModelLoad")).isEqualTo(Scope.MANAGE);
    assertThat(Endpoints.scopeNeeded("/v2/repository/index")).isEqualTo(Scope.INFER);
    assertThat(Endpoints.scopeNeeded("/inference.GRPCInferenceService/RepositoryIndex")).isEqualTo(Scope.INFER);
    assertThat(Endpoints.scopeNeeded("/v2/health/live/")).isEqualTo(Scope.INFER);
    assertThat(Endpoints.scopeNeeded("/anything/else")).isEqualTo(Scope.INFER);
  }
}
