package io.serval.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.grpc.Status;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A flood of large requests against a server started the way the README starts it (its own JVM, default memory
 * settings, the built-in model, the default configuration): about 5 GB of batch-8 requests (884 KB each) sent as
 * fast as the client can, far more than the server's in-flight budget holds. The process stays up, its peak
 * resident memory ({@code VmHWM}) stays under the bound the README documents, every accepted request is answered
 * with its correct outputs, the rest are refused with RESOURCE_EXHAUSTED, and afterwards the server holds no
 * request memory and no budget.
 */
class FloodTest {
  /** The documented bound for the default settings on a 24 GiB machine; see the README's Limits section. */
  private static final long RESIDENT_BOUND_BYTES = 4L << 30;
  private static final int REQUESTS = 6000;
  /** Calls the client keeps open at once: far over the server's budget, within what the client can buffer. */
  private static final int CLIENT_INFLIGHT = 1500;
  private static final Pattern PORTS = Pattern.compile("on ports (\\d+) \\(http\\), (\\d+) \\(grpc\\), (\\d+) \\(metrics\\)");

  private Process server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.destroy();
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void survivesFiveGigabytesOfRequestsAtOnceWithinTheMemoryBound() throws Exception {
    int[] ports = startServer();
    ModelInferRequest request = batchOfEight();
    float[] expected = expectedOutputs();
    ClientFactory factory = ClientFactory.builder().maxNumEventLoopsPerEndpoint(4).build();
    GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub grpc = GrpcClients.builder("http://127.0.0.1:" + ports[1])
        .factory(factory).maxRequestMessageLength(-1).maxResponseMessageLength(-1).responseTimeout(Duration.ofMinutes(5))
        .build(GRPCInferenceServiceGrpc.GRPCInferenceServiceFutureStub.class);
    assertThat(grpc.modelInfer(request).get(60, TimeUnit.SECONDS).getRawOutputContentsCount()).isEqualTo(1);
    long baseline = residentBytes("VmRSS");

    AtomicInteger answered = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    Map<String, Integer> unexpected = new ConcurrentHashMap<>();
    List<String> wrongAnswers = new ArrayList<>();
    Semaphore window = new Semaphore(CLIENT_INFLIGHT);
    CountDownLatch done = new CountDownLatch(REQUESTS);
    for (int i = 0; i < REQUESTS; i++) {
      window.acquire();
      Futures.addCallback(grpc.modelInfer(request), new FutureCallback<ModelInferResponse>() {
        @Override
        public void onSuccess(ModelInferResponse response) {
          String wrong = check(response, expected);
          if (wrong == null) {
            answered.incrementAndGet();
          } else {
            synchronized (wrongAnswers) {
              wrongAnswers.add(wrong);
            }
          }
          window.release();
          done.countDown();
        }

        @Override
        public void onFailure(Throwable t) {
          Status status = Status.fromThrowable(t);
          if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
            refused.incrementAndGet();
          } else {
            unexpected.merge(status.getCode() + ": " + status.getDescription(), 1, Integer::sum);
          }
          window.release();
          done.countDown();
        }
      }, MoreExecutors.directExecutor());
    }
    assertThat(done.await(10, TimeUnit.MINUTES)).as("every request got an answer").isTrue();
    long peak = residentBytes("VmHWM");
    System.out.printf("flood: %d requests of %d bytes (%.1f GB): %d answered, %d refused; resident %d MiB before,"
            + " peak %d MiB (bound %d MiB)%n", REQUESTS, request.getSerializedSize(),
        REQUESTS * (double) request.getSerializedSize() / 1e9, answered.get(), refused.get(), baseline >> 20,
        peak >> 20, RESIDENT_BOUND_BYTES >> 20);

    assertThat(server.isAlive()).as("the server process is up").isTrue();
    assertThat(unexpected).as("answers other than success or RESOURCE_EXHAUSTED").isEmpty();
    assertThat(wrongAnswers).as("accepted requests answered with wrong outputs").isEmpty();
    assertThat(answered.get() + refused.get()).isEqualTo(REQUESTS);
    assertThat(refused.get()).as("the budget refused part of the flood").isPositive();
    assertThat(answered.get()).as("the budget accepted part of the flood").isPositive();
    assertThat(peak).as("peak resident memory").isLessThan(RESIDENT_BOUND_BYTES);
    String metrics = WebClient.of("http://127.0.0.1:" + ports[2]).blocking().get("/metrics").contentUtf8();
    assertThat(gauge(metrics, "serval_admission_inflight_bytes")).as("budget held after the flood").isZero();
    assertThat(gauge(metrics, "serval_tensor_memory_bytes")).as("request memory held after the flood").isZero();
    assertThat(grpc.modelInfer(request).get(60, TimeUnit.SECONDS).getRawOutputContentsCount()).isEqualTo(1);
    factory.close();
  }

  private int[] startServer() throws IOException {
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    server = new ProcessBuilder(java.toString(), "-cp", classpath, Main.class.getName(),
        "--http_port=0", "--grpc_port=0", "--metrics_port=0", "--management.port=0",
        "--model_repositories=" + TestRepositories.MODELS)
        .redirectErrorStream(true).start();
    BufferedReader output =
        new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    String line;
    while ((line = output.readLine()) != null) {
      seen.append(line).append('\n');
      Matcher ports = PORTS.matcher(line);
      if (ports.find()) {
        Thread drain = new Thread(() -> output.lines().forEach(l -> { }), "flood-server-output");
        drain.setDaemon(true);
        drain.start();
        return new int[] {Integer.parseInt(ports.group(1)), Integer.parseInt(ports.group(2)),
            Integer.parseInt(ports.group(3))};
      }
    }
    throw new IllegalStateException("the server exited before serving:\n" + seen);
  }

  private long residentBytes(String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(server.pid()), "status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no " + field + " in /proc/" + server.pid() + "/status");
  }

  private static double gauge(String metrics, String name) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new IllegalStateException("no metric " + name);
  }

  /** The golden input's two text lines, four times over: a batch of 8. */
  private static ModelInferRequest batchOfEight() {
    byte[] golden = TestRepositories.littleEndian(TestRepositories.goldenInput());
    ByteString data = ByteString.EMPTY;
    for (int i = 0; i < 4; i++) {
      data = data.concat(ByteString.copyFrom(golden));
    }
    return ModelInferRequest.newBuilder()
        .setModelName(TestRepositories.MODEL)
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName(TestRepositories.INPUT)
            .setDatatype("FP32").addShape(8).addShape(3).addShape(48).addShape(192))
        .addRawInputContents(data)
        .build();
  }

  private static float[] expectedOutputs() {
    float[] golden = TestRepositories.goldenOutput();
    float[] expected = new float[golden.length * 4];
    for (int i = 0; i < 4; i++) {
      System.arraycopy(golden, 0, expected, i * golden.length, golden.length);
    }
    return expected;
  }

  private static String check(ModelInferResponse response, float[] expected) {
    ByteBuffer data = response.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (data.remaining() != expected.length * 4) {
      return "output of " + data.remaining() + " bytes";
    }
    for (int i = 0; i < expected.length; i++) {
      float actual = data.getFloat(i * 4);
      if (Math.abs(actual - expected[i]) > 1e-5) {
        return "element " + i + " is " + actual + " (expected " + expected[i] + ")";
      }
    }
    return null;
  }
}
