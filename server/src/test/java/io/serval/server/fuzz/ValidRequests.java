package io.serval.server.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.BlockingWebClient;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import io.serval.server.TestRepositories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Valid requests with known answers: the built-in model's golden input and output (over HTTP JSON, HTTP binary
 * and gRPC) and the affine model's exact y = 2x + 1. A server that still answers these after a fuzz run has not
 * been corrupted by it.
 */
final class ValidRequests {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ValidRequests() {}

  static void check(FuzzServer server) throws IOException {
    BlockingWebClient http = WebClient.builder(server.httpUri()).maxResponseLength(0).build().blocking();
    GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub grpc = GrpcClients.builder(server.grpcUri())
        .maxRequestMessageLength(64 << 20).maxResponseMessageLength(64 << 20)
        .build(GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub.class);
    float[] input = TestRepositories.goldenInput();
    float[] expected = TestRepositories.goldenOutput();

    // HTTP, JSON tensors.
    StringBuilder json = new StringBuilder("{\"id\":\"golden\",\"inputs\":[{\"name\":\"x\",\"shape\":[2,3,48,192],"
        + "\"datatype\":\"FP32\",\"data\":[");
    for (int i = 0; i < input.length; i++) {
      json.append(i > 0 ? "," : "").append(input[i]);
    }
    json.append("]}]}");
    AggregatedHttpResponse response = http.prepare().post("/v2/models/ocr_orientation/infer")
        .content(MediaType.JSON, json.toString()).execute();
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
    JsonNode output = MAPPER.readTree(response.contentUtf8()).get("outputs").get(0);
    assertThat(output.get("shape").toString()).isEqualTo("[2,2]");
    for (int i = 0; i < expected.length; i++) {
      assertThat(output.get("data").get(i).floatValue()).isCloseTo(expected[i], within(1e-5f));
    }

    // HTTP, binary tensors in and out.
    byte[] data = TestRepositories.littleEndian(input);
    byte[] header = ("{\"inputs\":[{\"name\":\"x\",\"shape\":[2,3,48,192],\"datatype\":\"FP32\",\"parameters\":"
        + "{\"binary_data_size\":" + data.length + "}}],\"outputs\":[{\"name\":\"softmax_0.tmp_0\",\"parameters\":"
        + "{\"binary_data\":true}}]}").getBytes(StandardCharsets.UTF_8);
    response = http.execute(RequestHeaders.builder(HttpMethod.POST, "/v2/models/ocr_orientation/infer")
        .set("inference-header-content-length", Integer.toString(header.length)).build(),
        HttpData.wrap(FuzzGenerator.concat(header, data)));
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
    int jsonLength = Integer.parseInt(response.headers().get("inference-header-content-length"));
    byte[] body = response.content().array();
    assertThat(body.length).isEqualTo(jsonLength + 16);
    assertGolden(ByteBuffer.wrap(body, jsonLength, 16).slice(), expected);

    // gRPC, raw contents.
    ModelInferResponse answer = grpc.modelInfer(ModelInferRequest.newBuilder().setModelName("ocr_orientation")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(2).addShape(3).addShape(48).addShape(192))
        .addRawInputContents(ByteString.copyFrom(data))
        .build());
    assertGolden(answer.getRawOutputContents(0).asReadOnlyByteBuffer(), expected);

    // The affine model, exactly, over both protocols.
    response = http.prepare().post("/v2/models/affine/infer").content(MediaType.JSON,
        "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4,-1,0,0.5,100]}]}")
        .execute();
    assertThat(response.status()).as(response.contentUtf8()).isEqualTo(HttpStatus.OK);
    assertThat(MAPPER.readTree(response.contentUtf8()).get("outputs").get(0).get("data").toString())
        .isEqualTo("[3.0,5.0,7.0,9.0,-1.0,1.0,2.0,201.0]");
    answer = grpc.modelInfer(ModelInferRequest.newBuilder().setModelName("affine")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32")
            .addShape(1).addShape(4))
        .addRawInputContents(ByteString.copyFrom(TestRepositories.littleEndian(new float[] {1, 2, 3, 4})))
        .build());
    ByteBuffer y = answer.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertThat(new float[] {y.getFloat(0), y.getFloat(4), y.getFloat(8), y.getFloat(12)})
        .containsExactly(3f, 5f, 7f, 9f);
  }

  private static void assertGolden(ByteBuffer raw, float[] expected) {
    ByteBuffer floats = raw.order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < expected.length; i++) {
      assertThat(floats.getFloat(i * 4)).isCloseTo(expected[i], within(1e-5f));
    }
  }
}
