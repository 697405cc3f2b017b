package io.serval.client.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.grpc.GrpcClients;
import io.serval.client.InferRequest;
import io.serval.client.InferResult;
import io.serval.client.InferTensor;
import io.serval.client.ServalClient;
import io.serval.client.Transport;
import io.serval.protocol.v2.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.serval.protocol.v2.ModelInferRequest;
import io.serval.protocol.v2.ModelInferResponse;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * The client's cost per call, measured against a running server: a closed loop of {@code concurrency} threads, each
 * calling synchronously one request after another for a warm-up and then for the measured seconds, in one of three
 * modes:
 *
 * <ul>
 *   <li>{@code sdk-grpc}: one {@link ServalClient} over gRPC with its default settings (3 attempts, 30 s timeout),
 *       shared by the threads, each calling the blocking {@link ServalClient#infer};
 *   <li>{@code sdk-http}: the same over HTTP (binary tensor extension);
 *   <li>{@code raw-grpc}: the floor, the generated blocking stub on a bare Armeria gRPC client (no retry, no
 *       deadline), each request a {@code ModelInferRequest} built by hand with {@code raw_input_contents}.
 * </ul>
 *
 * <p>Every mode starts each call from the same {@code float[]} and ends it with the output as a {@code float[]},
 * which is checked against the answer of a first call (shape, and values within 1e-3: a batching server may add
 * requests of other threads to the batch), so a wrong answer counts as an error. Prints one JSON line: mode, model,
 * concurrency, seconds, requests, requests_per_sec, p50_us, p99_us, errors, and cpu_us_per_request, the process
 * CPU time (all threads: the calls, the client's event loop, JIT and GC) over the measured window per request.
 *
 * <pre>
 * java -cp TEST_CLASSPATH io.serval.client.bench.SdkOverheadBench --mode sdk-grpc --endpoint 127.0.0.1:8001 \
 *     --model digits --concurrency 32 --seconds 10 --warmup 3
 * </pre>
 *
 * <p>{@code loadtest/sdk-bench.sh} runs every mode and the Python tritonclient driver against one server.
 */
public final class SdkOverheadBench {
  private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);

  private SdkOverheadBench() {}

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    Workload workload = Workload.of(options.model);
    try (Caller caller = Caller.of(options.mode, options.endpoint, workload)) {
      // The first answer is the reference of the others; without one there is nothing to measure.
      float[] reference = caller.call();
      workload.checkCount(reference);
      Map<String, Object> result = run(options, caller, workload, reference);
      System.out.println(new ObjectMapper().writeValueAsString(result));
    }
    System.exit(0);
  }

  private static Map<String, Object> run(Options options, Caller caller, Workload workload, float[] reference)
      throws InterruptedException {
    long start = System.nanoTime();
    long measureFrom = start + TimeUnit.MILLISECONDS.toNanos(Math.round(options.warmupSeconds * 1000));
    long until = measureFrom + TimeUnit.MILLISECONDS.toNanos(Math.round(options.seconds * 1000));
    AtomicReference<@Nullable String> firstError = new AtomicReference<>();
    List<Worker> workers = new ArrayList<>();
    for (int i = 0; i < options.concurrency; i++) {
      Worker worker = new Worker(caller, workload, reference, measureFrom, until, firstError);
      worker.setName("bench-" + i);
      workers.add(worker);
      worker.start();
    }
    sleepUntil(measureFrom);
    long cpuFrom = processCpuNanos();
    sleepUntil(until);
    long cpuUntil = processCpuNanos();
    Histogram latencies = new Histogram(HIGHEST_NANOS, 3);
    long errors = 0;
    for (Worker worker : workers) {
      worker.join();
      latencies.add(worker.latencies);
      errors += worker.errors;
    }
    long requests = latencies.getTotalCount();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("mode", options.mode);
    result.put("model", options.model);
    result.put("concurrency", options.concurrency);
    result.put("round", options.round);
    result.put("seconds", options.seconds);
    result.put("requests", requests);
    result.put("requests_per_sec", round1(requests / options.seconds));
    result.put("p50_us", round1(latencies.getValueAtPercentile(50) / 1000.0));
    result.put("p99_us", round1(latencies.getValueAtPercentile(99) / 1000.0));
    result.put("errors", errors);
    result.put("cpu_us_per_request", requests == 0 ? null : round1((cpuUntil - cpuFrom) / 1000.0 / requests));
    String error = firstError.get();
    if (error != null) {
      result.put("first_error", error);
    }
    return result;
  }

  private static double round1(double value) {
    return Math.round(value * 10) / 10.0;
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left;
    while ((left = nanoTime - System.nanoTime()) > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** One thread of the closed loop; counts the calls that end inside the measured window. */
  private static final class Worker extends Thread {
    private final Caller caller;
    private final Workload workload;
    private final float[] reference;
    private final long measureFrom;
    private final long until;
    private final AtomicReference<@Nullable String> firstError;
    final Histogram latencies = new Histogram(HIGHEST_NANOS, 3);
    long errors;

    Worker(Caller caller, Workload workload, float[] reference, long measureFrom, long until,
        AtomicReference<@Nullable String> firstError) {
      this.caller = caller;
      this.workload = workload;
      this.reference = reference;
      this.measureFrom = measureFrom;
      this.until = until;
      this.firstError = firstError;
    }

    @Override
    public void run() {
      long began;
      while ((began = System.nanoTime()) < until) {
        RuntimeException failure = null;
        try {
          workload.check(caller.call(), reference);
        } catch (RuntimeException e) {
          failure = e;
        }
        long ended = System.nanoTime();
        if (failure != null) {
          firstError.compareAndSet(null, failure.getClass().getSimpleName() + ": " + failure.getMessage());
        }
        if (ended < measureFrom || ended >= until) {
          continue;
        }
        if (failure == null) {
          latencies.recordValue(Math.min(ended - began, HIGHEST_NANOS));
        } else {
          errors++;
        }
      }
    }
  }

  /** The request of a model: one FP32 input, one FP32 output, the same input values in every mode and language. */
  record Workload(String model, String input, long[] inputShape, float[] values, String output, long[] outputShape) {
    static Workload of(String model) {
      return switch (model) {
        case "digits" -> of(model, "x", new long[] {1, 1, 28, 28}, "probabilities", new long[] {1, 10});
        case "ocr_orientation" -> of(model, "x", new long[] {1, 3, 48, 192}, "softmax_0.tmp_0", new long[] {1, 2});
        default -> throw new IllegalArgumentException("model: " + model + " (expected: digits or ocr_orientation)");
      };
    }

    private static Workload of(String model, String input, long[] inputShape, String output, long[] outputShape) {
      int count = Math.toIntExact(Arrays.stream(inputShape).reduce(1, Math::multiplyExact));
      float[] values = new float[count];
      // A fixed pattern that loadtest/sdk_bench.py computes the same way (numpy float32 division).
      for (int i = 0; i < count; i++) {
        values[i] = (float) ((i * 7919L) % 256) / 255f;
      }
      return new Workload(model, input, inputShape, values, output, outputShape);
    }

    int outputCount() {
      return Math.toIntExact(Arrays.stream(outputShape).reduce(1, Math::multiplyExact));
    }

    void checkCount(float[] answer) {
      if (answer.length != outputCount()) {
        throw new IllegalStateException(output + ": " + answer.length + " values (expected: " + outputCount() + ")");
      }
    }

    void check(float[] answer, float[] reference) {
      checkCount(answer);
      for (int i = 0; i < answer.length; i++) {
        if (!(Math.abs(answer[i] - reference[i]) <= 1e-3f)) {
          throw new IllegalStateException(output + "[" + i + "]: " + answer[i] + " (expected: " + reference[i]
              + " as in the first answer)");
        }
      }
    }

    void checkShape(String what, long[] shape) {
      if (!Arrays.equals(shape, outputShape)) {
        throw new IllegalStateException(what + " shape " + Arrays.toString(shape) + " (expected: "
            + Arrays.toString(outputShape) + ")");
      }
    }
  }

  /** One inference call, thread-safe: sends the workload's input and answers its output's values. */
  interface Caller extends AutoCloseable {
    float[] call();

    @Override
    void close();

    static Caller of(String mode, String endpoint, Workload workload) {
      return switch (mode) {
        case "sdk-grpc" -> new SdkCaller(Transport.GRPC, endpoint, workload);
        case "sdk-http" -> new SdkCaller(Transport.HTTP, endpoint, workload);
        case "raw-grpc" -> new RawGrpcCaller(endpoint, workload);
        default -> throw new IllegalArgumentException("mode: " + mode + " (expected: sdk-grpc, sdk-http or raw-grpc)");
      };
    }
  }

  /** The SDK as its README shows it: one client, default settings, blocking calls. */
  private static final class SdkCaller implements Caller {
    private final ServalClient client;
    private final Workload workload;

    SdkCaller(Transport transport, String endpoint, Workload workload) {
      this.client = ServalClient.builder().transport(transport).endpoint(endpoint).build();
      this.workload = workload;
    }

    @Override
    public float[] call() {
      InferResult result = client.infer(InferRequest.builder(workload.model())
          .input(InferTensor.ofFloats(workload.input(), workload.inputShape(), workload.values()))
          .output(workload.output())
          .build());
      InferTensor output = result.output(workload.output());
      workload.checkShape(workload.output(), output.shape());
      return output.toFloatArray();
    }

    @Override
    public void close() {
      client.close();
    }
  }

  /** The generated blocking stub on a bare Armeria gRPC client: what the SDK's gRPC transport adds to. */
  private static final class RawGrpcCaller implements Caller {
    private final ClientFactory factory;
    private final GRPCInferenceServiceBlockingStub stub;
    private final Workload workload;

    RawGrpcCaller(String endpoint, Workload workload) {
      this.factory = ClientFactory.builder().build();
      this.stub = GrpcClients.builder("http://" + endpoint)
          .factory(factory)
          .maxResponseLength(0)
          .build(GRPCInferenceServiceBlockingStub.class);
      this.workload = workload;
    }

    @Override
    public float[] call() {
      float[] values = workload.values();
      ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asFloatBuffer().put(values);
      ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor.newBuilder()
          .setName(workload.input())
          .setDatatype("FP32");
      for (long dim : workload.inputShape()) {
        input.addShape(dim);
      }
      ModelInferRequest request = ModelInferRequest.newBuilder()
          .setModelName(workload.model())
          .addInputs(input)
          .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(workload.output()))
          .addRawInputContents(UnsafeByteOperations.unsafeWrap(bytes))
          .build();
      ModelInferResponse response = stub.modelInfer(request);
      if (response.getOutputsCount() != 1 || response.getRawOutputContentsCount() != 1) {
        throw new IllegalStateException(response.getOutputsCount() + " outputs, " + response.getRawOutputContentsCount()
            + " raw output contents (expected: 1 and 1)");
      }
      workload.checkShape(workload.output(),
          response.getOutputs(0).getShapeList().stream().mapToLong(Long::longValue).toArray());
      ByteString raw = response.getRawOutputContents(0);
      float[] answer = new float[raw.size() / Float.BYTES];
      raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(answer);
      return answer;
    }

    @Override
    public void close() {
      factory.close();
    }
  }

  /** The command line: {@code --name value} pairs. */
  private record Options(String mode, String endpoint, String model, int concurrency, double seconds,
      double warmupSeconds, int round) {
    static Options parse(String[] args) {
      Map<String, String> values = new LinkedHashMap<>(Map.of("model", "ocr_orientation", "concurrency", "1",
          "seconds", "10", "warmup", "3", "round", "1"));
      for (int i = 0; i < args.length; i++) {
        String name = args[i];
        if (!name.startsWith("--") || i + 1 == args.length) {
          throw new IllegalArgumentException("argument " + name + " (expected: --name value; names: mode, "
              + "endpoint, model, concurrency, seconds, warmup, round)");
        }
        values.put(name.substring(2), args[++i]);
      }
      for (String required : List.of("mode", "endpoint")) {
        if (!values.containsKey(required)) {
          throw new IllegalArgumentException("--" + required + " is missing");
        }
      }
      int concurrency = Integer.parseInt(values.get("concurrency"));
      if (concurrency < 1) {
        throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: > 0)");
      }
      double seconds = Double.parseDouble(values.get("seconds"));
      if (!(seconds > 0)) {
        throw new IllegalArgumentException("seconds: " + seconds + " (expected: > 0)");
      }
      double warmup = Double.parseDouble(values.get("warmup"));
      if (!(warmup >= 0)) {
        throw new IllegalArgumentException("warmup: " + warmup + " (expected: >= 0)");
      }
      return new Options(values.get("mode").toLowerCase(Locale.ROOT), values.get("endpoint"), values.get("model"),
          concurrency, seconds, warmup, Integer.parseInt(values.get("round")));
    }
  }
}
