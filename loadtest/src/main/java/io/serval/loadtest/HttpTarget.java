package io.serval.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.WebClientBuilder;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.common.auth.AuthToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A model behind the v2 HTTP/REST front end. Tensors go in the binary tensor extension (a JSON header followed by
 * the raw bytes, as Triton's clients send them) or, with {@code --http-json}, as JSON arrays. HTTP/1.1, as
 * perf_analyzer and most clients speak it, one connection per request in flight.
 */
final class HttpTarget implements Target {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final WebClient client;
  private final String modelPath;
  private final boolean json;
  private final List<Samples.InputSpec> inputs;

  HttpTarget(LoadOptions options) {
    String scheme = options.url().getScheme().equals("https") ? "h1" : "h1c";
    WebClientBuilder builder = WebClient.builder(scheme + "://" + options.url().getAuthority())
        .factory(ClientFactory.ofDefault())
        .responseTimeout(options.timeout())
        .maxResponseLength(0);
    if (options.token() != null) {
      builder.auth(AuthToken.ofOAuth2(options.token()));
    }
    client = builder.build();
    modelPath = "/v2/models/" + options.model()
        + (options.modelVersion() == null ? "" : "/versions/" + options.modelVersion());
    json = options.httpJson();
    inputs = metadataInputs(options);
  }

  private List<Samples.InputSpec> metadataInputs(LoadOptions options) {
    AggregatedHttpResponse response = client.blocking().get(modelPath);
    if (response.status().code() != 200) {
      throw new IllegalStateException("the metadata of model " + options.model() + " at " + options.url() + ": HTTP "
          + response.status().code() + " " + response.contentUtf8().strip());
    }
    try {
      List<Samples.InputSpec> specs = new ArrayList<>();
      for (JsonNode input : JSON.readTree(response.contentUtf8()).path("inputs")) {
        long[] shape = new long[input.path("shape").size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = input.path("shape").get(i).asLong();
        }
        specs.add(new Samples.InputSpec(input.path("name").asText(), input.path("datatype").asText(), shape));
      }
      return List.copyOf(specs);
    } catch (IOException e) {
      throw new IllegalStateException("the metadata of model " + options.model() + " is not JSON: " + e.getMessage());
    }
  }

  @Override
  public List<Samples.InputSpec> inputs() {
    return inputs;
  }

  @Override
  public Call prepare(List<InputTensor> sample) {
    ObjectNode header = JSON.createObjectNode();
    ArrayNode tensors = header.putArray("inputs");
    int binaryBytes = 0;
    for (InputTensor tensor : sample) {
      ObjectNode node = tensors.addObject().put("name", tensor.name()).put("datatype", tensor.datatype());
      ArrayNode shape = node.putArray("shape");
      for (long dim : tensor.shape()) {
        shape.add(dim);
      }
      if (json) {
        node.set("data", tensor.jsonData());
      } else {
        node.putObject("parameters").put("binary_data_size", tensor.data().length);
        binaryBytes += tensor.data().length;
      }
    }
    if (!json) {
      header.putObject("parameters").put("binary_data_output", true);
    }
    byte[] headerBytes;
    try {
      headerBytes = JSON.writeValueAsBytes(header);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    byte[] body = new byte[headerBytes.length + binaryBytes];
    System.arraycopy(headerBytes, 0, body, 0, headerBytes.length);
    int offset = headerBytes.length;
    if (!json) {
      for (InputTensor tensor : sample) {
        System.arraycopy(tensor.data(), 0, body, offset, tensor.data().length);
        offset += tensor.data().length;
      }
    }
    RequestHeadersBuilder headers = RequestHeaders.builder(HttpMethod.POST, modelPath + "/infer")
        .contentType(json ? MediaType.JSON : MediaType.OCTET_STREAM);
    if (!json) {
      headers.add("inference-header-content-length", Integer.toString(headerBytes.length));
    }
    RequestHeaders requestHeaders = headers.add(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
        .build();
    HttpData content = HttpData.wrap(body);
    return () -> client.execute(HttpRequest.of(requestHeaders, content)).aggregate().<Void>handle((response, error) -> {
      if (error != null) {
        throw RequestFailure.of(error);
      }
      if (response.status().code() != 200) {
        throw new RequestFailure("http " + response.status().code(), response.content(StandardCharsets.UTF_8));
      }
      return null;
    });
  }

  @Override
  public void close() {}
}
