package io.serval.server.warmup;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.WebClientBuilder;
import com.linecorp.armeria.client.grpc.GrpcClientBuilder;
import com.linecorp.armeria.client.grpc.GrpcClients;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.RequestHeadersBuilder;
import com.linecorp.armeria.common.auth.AuthToken;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.serval.core.DataType;
import io.serval.core.MemoryScope;
import io.serval.core.ModelSignature;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import io.serval.server.config.ServerConfig;
import io.serval.server.repository.ModelVersion;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the server's own request path before it reports ready, so that its first clients do not pay for the
 * JVM compiling it: sample requests go over loopback through the real front ends (gRPC, HTTP with binary tensors,
 * HTTP with JSON) into every loaded model version, as clients' requests would, two at a time so that batching
 * paths run too. Inputs are generated from each version's signature (batch 1, any other free dimension 1,
 * values in [0, 1) or 0). A model whose generated request fails (it may need real data) is reported in the log
 * and left out; the warm-up never fails the start. Statistics start over when it ends.
 *
 * <pre>{@code
 * Warmup.Outcome outcome = Warmup.of(config.warmup())
 *     .run(versions, port, token, tls, server.config().workerGroup());
 * }</pre>
 */
public final class Warmup {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int CONCURRENCY = 2;
  /** Distinct inputs per model and front end, so that a response cache does not answer them all. */
  private static final int VARIANTS = 4;

  /** What the warm-up did: requests sent, time, and both by front end (each failure is logged where it happens). */
  public record Outcome(int sent, long millis, String byFrontEnd) {}

  private enum FrontEnd {
    GRPC("gRPC", 1),
    HTTP_BINARY("HTTP binary", 1),
    /** A tenth of the requests: a large tensor in JSON costs far more to parse than to run, and its loops are few. */
    HTTP_JSON("HTTP JSON", 10);

    final String label;
    final int share;

    FrontEnd(String label, int share) {
      this.label = label;
      this.share = share;
    }
  }

  private final ServerConfig.Warmup settings;

  private Warmup(ServerConfig.Warmup settings) {
    this.settings = settings;
  }

  public static Warmup of(ServerConfig.Warmup settings) {
    return new Warmup(settings);
  }

  /**
   * Warms the server listening on {@code port} of the loopback address (its own HTTP or gRPC port: each serves
   * both) for {@code versions}.
   *
   * @param token a bearer token with the infer scope, or {@code null} when none is needed
   * @param tls whether the port serves TLS (the server's own certificate is then not verified: it is itself)
   * @param eventLoops the server's own event loops, which the warm-up's clients share (no threads of their own)
   */
  public Outcome run(List<ModelVersion> versions, int port, @Nullable String token, boolean tls,
      EventLoopGroup eventLoops) throws InterruptedException {
    long started = System.nanoTime();
    if (settings.requests() == 0 || versions.isEmpty()) {
      return new Outcome(0, 0, "");
    }
    ClientFactory factory = ClientFactory.builder().workerGroup(eventLoops, false).tlsNoVerify().build();
    try {
      String uri = (tls ? "https://" : "http://") + "127.0.0.1:" + port;
      WebClientBuilder httpBuilder = WebClient.builder(uri).factory(factory).maxResponseLength(0)
          .responseTimeout(Duration.ofSeconds(settings.maxSeconds()));
      GrpcClientBuilder grpcBuilder = GrpcClients.builder(uri).factory(factory).maxResponseMessageLength(-1)
          .maxResponseLength(0).responseTimeout(Duration.ofSeconds(settings.maxSeconds()));
      if (token != null) {
        httpBuilder.auth(AuthToken.ofOAuth2(token));
        grpcBuilder.auth(AuthToken.ofOAuth2(token));
      }
      WebClient http = httpBuilder.build();
      GRPCInferenceServiceGrpc.GRPCInferenceServiceStub grpc =
          grpcBuilder.build(GRPCInferenceServiceGrpc.GRPCInferenceServiceStub.class);
      Random random = new Random(1);
      long deadline = started + TimeUnit.SECONDS.toNanos(settings.maxSeconds());
      int sent = 0;
      List<String> byFrontEnd = new ArrayList<>();
      for (FrontEnd frontEnd : FrontEnd.values()) {
        long frontEndStarted = System.nanoTime();
        List<Target> targets = new ArrayList<>();
        for (ModelVersion version : versions) {
          targets.add(new Target(version, frontEnd, calls(version, frontEnd, http, grpc, random)));
        }
        int quota = Math.max(1, settings.requests() / frontEnd.share / versions.size());
        int sentHere = drive(targets, quota, deadline);
        sent += sentHere;
        byFrontEnd.add(frontEnd.label + " " + sentHere + " in "
            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frontEndStarted) + " ms");
      }
      for (ModelVersion version : versions) {
        version.metrics().statistics().reset();
      }
      return new Outcome(sent, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
          String.join(", ", byFrontEnd));
    } finally {
      factory.closeAsync();
    }
  }

  /** One model version through one front end, with the requests to send it. */
  private static final class Target {
    final ModelVersion version;
    final FrontEnd frontEnd;
    final List<Supplier<CompletableFuture<Void>>> calls;
    final AtomicInteger next = new AtomicInteger();
    volatile @Nullable String failure;

    Target(ModelVersion version, FrontEnd frontEnd, List<Supplier<CompletableFuture<Void>>> calls) {
      this.version = version;
      this.frontEnd = frontEnd;
      this.calls = calls;
    }
  }

  /**
   * Sends {@code quota} requests to each target, round-robin, {@link #CONCURRENCY} at a time, until they are sent
   * or the deadline passes; a target that fails once is dropped.
   */
  private static int drive(List<Target> targets, int quota, long deadline) throws InterruptedException {
    AtomicInteger sent = new AtomicInteger();
    AtomicInteger turn = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(CONCURRENCY);
    Runnable[] chain = new Runnable[1];
    chain[0] = () -> {
      Target target = null;
      for (int tries = 0; tries < targets.size() && System.nanoTime() < deadline; tries++) {
        Target candidate = targets.get(Math.floorMod(turn.getAndIncrement(), targets.size()));
        if (candidate.failure == null && candidate.next.get() < quota) {
          target = candidate;
          break;
        }
      }
      if (target == null) {
        done.countDown();
        return;
      }
      Target chosen = target;
      int index = chosen.next.getAndIncrement();
      sent.incrementAndGet();
      chosen.calls.get(index % chosen.calls.size()).get().whenComplete((ignored, error) -> {
        if (error != null && chosen.failure == null) {
          chosen.failure = String.valueOf(error.getMessage());
          log.info("warm-up: model {} v{} over {} failed ({}); its first requests there will run cold",
              chosen.version.modelName(), chosen.version.versionString(), chosen.frontEnd.label, chosen.failure);
        }
        chain[0].run();
      });
    };
    for (int i = 0; i < CONCURRENCY; i++) {
      chain[0].run();
    }
    if (!done.await(Math.max(0, deadline - System.nanoTime()) + TimeUnit.SECONDS.toNanos(5),
        TimeUnit.NANOSECONDS)) {
      log.info("warm-up: requests still unanswered at its time limit; the server reports ready anyway");
    }
    return sent.get();
  }

  private static List<Supplier<CompletableFuture<Void>>> calls(ModelVersion version, FrontEnd frontEnd,
      WebClient http, GRPCInferenceServiceGrpc.GRPCInferenceServiceStub grpc, Random random) {
    List<Supplier<CompletableFuture<Void>>> calls = new ArrayList<>();
    for (int v = 0; v < VARIANTS; v++) {
      List<Input> inputs = new ArrayList<>();
      for (TensorSpec spec : version.servedSignature().inputs()) {
        inputs.add(Input.generate(spec, random));
      }
      calls.add(switch (frontEnd) {
        case GRPC -> grpcCall(version, inputs, grpc);
        case HTTP_BINARY -> httpCall(version, inputs, http, true);
        case HTTP_JSON -> httpCall(version, inputs, http, false);
      });
    }
    return calls;
  }

  private static Supplier<CompletableFuture<Void>> grpcCall(ModelVersion version, List<Input> inputs,
      GRPCInferenceServiceGrpc.GRPCInferenceServiceStub grpc) {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder()
        .setModelName(version.modelName()).setModelVersion(version.versionString());
    for (Input input : inputs) {
      ModelInferRequest.InferInputTensor.Builder tensor = request.addInputsBuilder()
          .setName(input.spec.name()).setDatatype(input.spec.dataType().wireName());
      for (long dim : input.shape) {
        tensor.addShape(dim);
      }
      request.addRawInputContents(ByteString.copyFrom(input.raw));
    }
    ModelInferRequest built = request.build();
    return () -> {
      CompletableFuture<Void> answered = new CompletableFuture<>();
      grpc.modelInfer(built, new StreamObserver<>() {
        @Override
        public void onNext(ModelInferResponse response) {}

        @Override
        public void onError(Throwable error) {
          answered.completeExceptionally(error);
        }

        @Override
        public void onCompleted() {
          answered.complete(null);
        }
      });
      return answered;
    };
  }

  private static Supplier<CompletableFuture<Void>> httpCall(ModelVersion version, List<Input> inputs,
      WebClient http, boolean binary) {
    ObjectNode header = JSON.createObjectNode();
    ArrayNode tensors = header.putArray("inputs");
    int rawBytes = 0;
    for (Input input : inputs) {
      ObjectNode tensor = tensors.addObject().put("name", input.spec.name())
          .put("datatype", input.spec.dataType().wireName());
      ArrayNode shape = tensor.putArray("shape");
      for (long dim : input.shape) {
        shape.add(dim);
      }
      if (binary) {
        tensor.putObject("parameters").put("binary_data_size", input.raw.length);
        rawBytes += input.raw.length;
      } else {
        tensor.set("data", input.json());
      }
    }
    if (binary) {
      header.putObject("parameters").put("binary_data_output", true);
    }
    byte[] headerBytes = header.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(headerBytes.length + rawBytes).put(headerBytes);
    if (binary) {
      inputs.forEach(input -> body.put(input.raw));
    }
    byte[] content = body.array();
    RequestHeadersBuilder headers = RequestHeaders.builder(HttpMethod.POST, "/v2/models/" + version.modelName()
            + "/versions/" + version.versionString() + "/infer")
        .contentType(binary ? MediaType.OCTET_STREAM : MediaType.JSON);
    if (binary) {
      headers.add("inference-header-content-length", Integer.toString(headerBytes.length));
    }
    RequestHeaders built = headers.build();
    return () -> http.execute(HttpRequest.of(built, HttpData.wrap(content))).aggregate()
        .thenAccept(response -> {
          if (response.status().code() != 200) {
            throw new IllegalStateException("HTTP " + response.status().code() + " " + response.contentUtf8());
          }
        });
  }

  /**
   * Generated inputs for a served signature, as the start's warm-up makes them (every free dimension 1, the batch
   * included), in tensors allocated from {@code memory}; {@code seed} varies the values.
   */
  public static List<Tensor> sampleInputs(ModelSignature signature, int seed, MemoryScope memory) {
    return sampleInputs(signature, seed, 1, memory);
  }

  /**
   * Generated inputs as {@link #sampleInputs(ModelSignature, int, MemoryScope)} makes them, with {@code rows} rows
   * in the batch dimension of a signature whose first dimension is free.
   */
  public static List<Tensor> sampleInputs(ModelSignature signature, int seed, int rows, MemoryScope memory) {
    Random random = new Random(seed);
    List<Tensor> tensors = new ArrayList<>();
    for (TensorSpec spec : signature.inputs()) {
      Input input = Input.generate(spec, rows, random);
      ByteBuffer data = memory.allocate(input.raw.length);
      data.put(input.raw).flip();
      tensors.add(Tensor.of(spec.name(), spec.dataType(), input.shape, data));
    }
    return tensors;
  }

  /** One generated input: its shape, raw little-endian data, and the same values for JSON. */
  private static final class Input {
    final TensorSpec spec;
    final long[] shape;
    final byte[] raw;

    private Input(TensorSpec spec, long[] shape, byte[] raw) {
      this.spec = spec;
      this.shape = shape;
      this.raw = raw;
    }

    static Input generate(TensorSpec spec, Random random) {
      return generate(spec, 1, random);
    }

    static Input generate(TensorSpec spec, int rows, Random random) {
      long[] shape = spec.shape().clone();
      long count = 1;
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shape[i] >= 0 ? shape[i] : i == 0 ? rows : 1;
        count *= shape[i];
      }
      DataType type = spec.dataType();
      ByteBuffer raw;
      if (type == DataType.BYTES) {
        byte[] text = "serval warm-up".getBytes(StandardCharsets.US_ASCII);
        raw = ByteBuffer.allocate((int) count * (4 + text.length)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < count; i++) {
          raw.putInt(text.length).put(text);
        }
      } else {
        raw = ByteBuffer.allocate((int) count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < count; i++) {
          switch (type) {
            case FP32 -> raw.putFloat(random.nextFloat());
            case FP64 -> raw.putDouble(random.nextDouble());
            default -> raw.put(new byte[type.byteSize()]); // 0 is a valid value of every other type
          }
        }
      }
      return new Input(spec, shape, raw.array());
    }

    /** The values as a JSON array. */
    ArrayNode json() {
      ArrayNode values = JSON.createArrayNode();
      ByteBuffer in = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
      DataType type = spec.dataType();
      while (in.hasRemaining()) {
        switch (type) {
          case FP32 -> values.add(in.getFloat());
          case FP64 -> values.add(in.getDouble());
          case BOOL -> values.add(in.get() != 0);
          case BYTES -> {
            byte[] text = new byte[in.getInt()];
            in.get(text);
            values.add(new String(text, StandardCharsets.US_ASCII));
          }
          default -> {
            in.position(in.position() + type.byteSize());
            values.add(0);
          }
        }
      }
      return values;
    }
  }
}
