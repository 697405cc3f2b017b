package io.serval.server.protocol.v2.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GrpcErrorsTest {
  @Test
  void percentEncodesGrpcMessages() {
    assertThat(GrpcErrors.percentEncoded("token 'ci': 100% ok\né")).isEqualTo("token 'ci': 100%25 ok%0A%C3%A9");
  }

  @Test
  void cutsMessagesToWhatAHeaderCarries() {
    assertThat(GrpcErrors.cut("m".repeat(100_000))).hasSize(GrpcErrors.MAX_MESSAGE).endsWith("...");
    assertThat(GrpcErrors.percentEncoded(GrpcErrors.cut("é".repeat(5_000))).length())
        .isLessThanOrEqualTo(GrpcErrors.MAX_MESSAGE);
    assertThat(GrpcErrors.cut("short")).isEqualTo("short");
  }
}
