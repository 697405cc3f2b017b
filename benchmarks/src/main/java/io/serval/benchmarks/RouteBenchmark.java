package io.serval.benchmarks;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.serval.core.DataType;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.MemoryScope;
import io.serval.core.ModelSignature;
import io.serval.core.RequestTimings;
import io.serval.core.Servable;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import io.serval.server.routing.RouteHints;
import io.serval.server.routing.ServedRoutes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What an A/B route adds to a request on the caller's path, against calling its model directly: a model that
 * answers at once with its input (FP32 [1, 784], a digit's size), called directly ({@code direct}), through a
 * route of two variants drawn by weight ({@code route}), by a sticky key ({@code route-key}), and through a route
 * whose shadow gets a copy of every request ({@code shadowed}: the copies of the request's inputs and the answer's
 * outputs and the hand-off to the shadow threads; the shadow's own run is off the caller's path). The same request
 * every time. Average time per request, one caller.
 */
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouteBenchmark {
  private static final ModelSignature SIGNATURE = ModelSignature.of(
      List.of(TensorSpec.of("x", DataType.FP32, -1, 784)), List.of(TensorSpec.of("x", DataType.FP32, -1, 784)));

  @Param({"direct", "route", "route-key", "shadowed"})
  public String path;

  private Path folder;
  private ServedRoutes routes;
  private Servable target;
  private RouteHints hints;
  private MemoryScope memory;
  private InferenceRequest request;

  /** A model that answers with its input, at once, on the caller's thread. */
  private static final class Echo implements Servable {
    @Override
    public String name() {
      return "echo";
    }

    @Override
    public String version() {
      return "1";
    }

    @Override
    public ModelSignature signature() {
      return SIGNATURE;
    }

    @Override
    public int maxBatchSize() {
      return 8;
    }

    @Override
    public String label() {
      return "model 'echo' version 1";
    }

    @Override
    public CompletableFuture<InferenceResult> infer(InferenceRequest request, Executor executor) {
      return CompletableFuture.completedFuture(new InferenceResult("echo", "1", request.id(), request.inputs(),
          request.outputsOf(label(), SIGNATURE), RequestTimings.NONE));
    }
  }

  @Setup
  public void start() throws IOException {
    folder = Files.createTempDirectory("route-benchmark");
    String shadow = path.equals("shadowed") ? "shadow: {name: copy, model: echo, max_inflight: 100000}\n" : "";
    Files.createDirectories(folder.resolve("r"));
    Files.writeString(folder.resolve("r").resolve("route.yaml"), "variants:\n"
        + "  - {name: a, model: echo, weight: 90}\n  - {name: b, model: echo, weight: 10}\n" + shadow);
    Servable echo = new Echo();
    routes = ServedRoutes.load(Map.of("r", folder.resolve("r")), (model, version) -> echo,
        new SimpleMeterRegistry());
    hints = path.equals("route-key") ? RouteHints.of(name -> name.equals(RouteHints.KEY_HEADER) ? "user-42" : null)
        : RouteHints.NONE;
    target = path.equals("direct") ? echo : ServedRoutes.resolve(routes.get("r"), "", hints);
    memory = MemoryScope.open();
    request = new InferenceRequest("", Map.of(), List.of(Tensor.ofFloats("x", new long[] {1, 784}, new float[784])),
        null, true, 0, memory);
  }

  @TearDown
  public void stop() throws IOException {
    memory.release();
    routes.close();
    Files.deleteIfExists(folder.resolve("r").resolve("route.yaml"));
    Files.deleteIfExists(folder.resolve("r"));
    Files.deleteIfExists(folder);
  }

  /** One request, the same every time (a request's own decoding and memory are not what is measured). */
  @Benchmark
  public InferenceResult infer() {
    return target.infer(request, Runnable::run).join();
  }
}
