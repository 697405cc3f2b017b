package io.serval.server;

import static io.serval.server.TestRepositories.MODEL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hundreds of corrupted requests, made from a valid one by a seeded generator: every answer is a client error
 * with a JSON (or gRPC) message, never a server error, and the server keeps serving.
 */
class MalformedRequestsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String INFER = "/v2/models/" + MODEL + "/infer";
  private static final Set<HttpStatus> CLIENT_ERRORS = Set.of(
      HttpStatus.BAD_REQUEST, HttpStatus.NOT_FOUND, HttpStatus.REQUEST_ENTITY_TOO_LARGE, HttpStatus.NOT_IMPLEMENTED);

  @TempDir static Path repository;
  private static RunningServer server;
  private static BlockingWebClient http;

  @BeforeAll
  static void start() throws Exception {
    TestRepositories.copyBuiltIn(repository, MODEL);
    server = RunningServer.start(repository);
    http = WebClient.of(server.httpUri()).blocking();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void corruptedHttpBodiesGetClientErrorsNeverServerErrors() throws Exception {
    byte[] data = new byte[3 * 48 * 192 * 4];
    String header = "{\"id\":\"r\",\"inputs\":[{\"name\":\"x\",\"shape\":[1,3,48,192],\"datatype\":\"FP32\","
        + "\"parameters\":{\"binary_data_size\":" + data.length + "}}],"
        + "\"outputs\":[{\"name\":\"softmax_0.tmp_0\",\"parameters\":{\"classification\":1}}]}";
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    Random random = new Random(2026);
    int served = 0;
    for (int i = 0; i < 300; i++) {
      byte[] body = concat(json, data);
      int headerLength = json.length;
      switch (i % 4) {
        case 0: // flip bytes inside the JSON header
          for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
            body[random.nextInt(json.length)] = (byte) (32 + random.nextInt(95));
          }
          break;
        case 1: // cut the body short
          body = Arrays.copyOf(body, random.nextInt(body.length));
          break;
        case 2: // lie about the header length
          headerLength = random.nextInt(json.length + 20) - 10;
          break;
        default: // random garbage
          body = new byte[random.nextInt(2048)];
          random.nextBytes(body);
      }
      AggregatedHttpResponse response = http.execute(
          RequestHeaders.builder(HttpMethod.POST, INFER)
              .set("inference-header-content-length", Integer.toString(headerLength))
              .build(),
          HttpData.wrap(body));
      if (response.status() == HttpStatus.OK) {
        served++;
        continue;
      }
      assertThat(response.status()).as("request %d: %s", i, response.contentUtf8()).isIn(CLIENT_ERRORS);
      String error = MAPPER.readTree(response.contentUtf8()).get("error").asText();
      assertThat(error).as("request %d", i).isNotEmpty().doesNotContain("\tat ", "Exception");
    }
    assertThat(served).as("a few flips leave the request valid").isLessThan(300);
    assertThat(http.execute(RequestHeaders.builder(HttpMethod.POST, INFER)
        .set("inference-header-content-length", Integer.toString(json.length)).build(),
        HttpData.wrap(concat(json, data))).status()).isEqualTo(HttpStatus.OK);
  }

  @Test
  void malformedGrpcRequestsGetInvalidArgumentOrNotFound() {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc =
        GrpcClients.newClient(server.grpcUri(), GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
    Random random = new Random(7);
    List<String> datatypes = List.of("FP32", "FP64", "INT8", "UINT64", "BYTES", "FP16", "fp32", "", "FLOAT");
    for (int i = 0; i < 200; i++) {
      ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
          .setName(random.nextInt(5) == 0 ? "y" : "x")
          .setDatatype(datatypes.get(random.nextInt(datatypes.size())));
      for (int d = random.nextInt(6); d > 0; d--) {
        input.addShape(random.nextInt(6) == 0 ? -random.nextInt(3) - 1 : random.nextInt(200));
      }
      ModelInferRequest.Builder request = ModelInferRequest.newBuilder()
          .setModelName(random.nextInt(10) == 0 ? "nope" : MODEL)
          .setModelVersion(random.nextInt(10) == 0 ? "x1" : "")
          .addInputs(input);
      byte[] raw = new byte[random.nextInt(4096)];
      random.nextBytes(raw);
      if (random.nextBoolean()) {
        request.addRawInputContents(ByteString.copyFrom(raw));
      }
      ModelInferRequest built = request.build();
      assertThatThrownBy(() -> grpc.modelInfer(built))
          .as("request %d: %s", i, built.getInputs(0))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isIn(
                Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND, Status.Code.UNIMPLEMENTED);
            assertThat(e.getStatus().getDescription()).isNotEmpty().doesNotContain("Exception");
          });
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] joined = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, joined, a.length, b.length);
    return joined;
  }
}
