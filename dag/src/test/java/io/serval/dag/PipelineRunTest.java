package io.serval.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.serval.core.DeadlineExceededException;
import io.serval.core.ErrorKind;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.ManualClock;
import io.serval.core.MemoryScope;
import io.serval.core.OverloadedException;
import io.serval.core.ServalException;
import io.serval.core.Tensor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Requests through compiled pipelines: concurrency, fan-in, infer nodes, and failures named by node. */
class PipelineRunTest {
  private final ExecutorService executor = Executors.newFixedThreadPool(2);
  private final DoublingModel model = new DoublingModel();
  private final AtomicInteger counted = new AtomicInteger();
  private final AtomicInteger flakyRuns = new AtomicInteger();
  private final CountDownLatch bothBranches = new CountDownLatch(2);
  private final List<MemoryScope> scopes = new ArrayList<>();
  private final ManualClock clock = new ManualClock();
  private final CompletableFuture<List<Tensor>> held = new CompletableFuture<>();

  @AfterEach
  void close() {
    executor.shutdownNow();
    scopes.forEach(MemoryScope::release);
  }

  private Pipeline compile(String yaml) throws InvalidPipelineException {
    List<OperatorFactory> factories = new ArrayList<>();
    ServiceLoader.load(OperatorFactory.class).forEach(factories::add);
    factories.add(TestOperators.plus());
    factories.add(TestOperators.count(counted));
    factories.add(TestOperators.reject());
    factories.add(TestOperators.broken());
    factories.add(TestOperators.flaky(flakyRuns, 2));
    factories.add(TestOperators.factory("times10", List.of("x"), (given, context) -> {
      float[] x = TestOperators.floats(given.get("x"));
      for (int i = 0; i < x.length; i++) {
        x[i] *= 10;
      }
      return x;
    }));
    factories.add(TestOperators.scaleAfter("left", 2, bothBranches));
    factories.add(TestOperators.scaleAfter("right", 10, bothBranches));
    factories.add(TestOperators.hold(held));
    return new PipelineCompiler(factories, model.resolver(), clock)
        .compile(PipelineDefinition.parse("p", "pipeline.yaml", yaml));
  }

  private CompletableFuture<InferenceResult> infer(Pipeline pipeline, float... x) {
    return inferBefore(0, pipeline, x);
  }

  /** A request with a deadline ({@link ManualClock} time; 0 for none). */
  private CompletableFuture<InferenceResult> inferBefore(long deadlineNanos, Pipeline pipeline, float... x) {
    MemoryScope memory = MemoryScope.open();
    scopes.add(memory);
    InferenceRequest request = new InferenceRequest("r1", Map.of(),
        List.of(Tensor.ofFloats("x", new long[] {1, x.length}, x)), null, true, deadlineNanos, memory);
    return pipeline.infer(request, executor);
  }

  @Test
  void aDeadlinePassingMidPipelineStopsTheNodeUnderWayAndStartsNoMore() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: after.y}]\n"
        + "nodes:\n"
        + "  - {name: slow, op: hold, inputs: {x: x}}\n"
        + "  - {name: after, op: count, inputs: {x: slow.y}}\n");
    CompletableFuture<InferenceResult> answer =
        inferBefore(clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50), pipeline, 1, 2);
    await().atMost(Duration.ofSeconds(10)).until(() -> held.getNumberOfDependents() > 0);

    clock.advance(TimeUnit.MILLISECONDS.toNanos(49));
    assertThat(answer).isNotDone();
    clock.advance(TimeUnit.MILLISECONDS.toNanos(1));

    Throwable failure = catchThrowable(() -> answer.get(10, TimeUnit.SECONDS));
    assertThat(failure).cause().isInstanceOf(DeadlineExceededException.class).hasMessage("pipeline 'p': the"
        + " request's deadline passed while node(s) 'slow' ran; the nodes after them were not started");
    assertThat(held).isCancelled();
    assertThat(counted).hasValue(0);
  }

  @Test
  void requestsPastMaxInflightAreRefusedAsOverload() throws Exception {
    Pipeline pipeline = compile("max_inflight: 1\n"
        + "inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: slow.y}]\n"
        + "nodes: [{name: slow, op: hold, inputs: {x: x}}]\n");
    CompletableFuture<InferenceResult> first = infer(pipeline, 1, 2);

    Throwable refused = catchThrowable(() -> infer(pipeline, 3, 4).get(10, TimeUnit.SECONDS));

    assertThat(refused).cause().isInstanceOf(OverloadedException.class)
        .hasMessage("pipeline 'p': 1 requests are in flight (its max_inflight); retry later");
    held.complete(List.of(Tensor.ofFloats("y", new long[] {1, 2}, new float[] {5, 6})));
    assertThat(TestOperators.floats(first.get(10, TimeUnit.SECONDS).outputs().get(0))).containsExactly(5, 6);
    assertThat(TestOperators.floats(infer(pipeline, 3, 4).get(10, TimeUnit.SECONDS).outputs().get(0)))
        .containsExactly(5, 6);
  }

  @Test
  void anObserverHearsEveryNodesOutcome() throws Exception {
    List<String> heard = new CopyOnWriteArrayList<>();
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: after.y}]\n"
        + "nodes:\n"
        + "  - {name: check, op: reject, inputs: {x: x}}\n"
        + "  - {name: after, op: count, inputs: {x: check.y}}\n")
        .observedBy((node, nanos, failure) -> heard.add(node + " " + failure));
    Pipeline counting = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: c.y}]\n"
        + "nodes: [{name: c, op: count, inputs: {x: x}}]\n")
        .observedBy((node, nanos, failure) -> heard.add(node + " " + failure));

    catchThrowable(() -> infer(pipeline, 1, 2).get(10, TimeUnit.SECONDS));
    infer(counting, 1, 2).get(10, TimeUnit.SECONDS);

    assertThat(heard).containsExactly("check INVALID_ARGUMENT", "c null");
  }

  @Test
  void aNodePastItsTimeoutFailsTheRequestNamingIt() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: slow.y}]\n"
        + "nodes: [{name: slow, op: hold, inputs: {x: x}, timeout_ms: 20}]\n");
    CompletableFuture<InferenceResult> answer = infer(pipeline, 1, 2);
    await().atMost(Duration.ofSeconds(10)).until(() -> held.getNumberOfDependents() > 0);

    clock.advance(TimeUnit.MILLISECONDS.toNanos(20));

    Throwable failure = catchThrowable(() -> answer.get(10, TimeUnit.SECONDS));
    assertThat(failure).cause().isInstanceOf(NodeFailedException.class)
        .hasMessage("pipeline 'p': node 'slow': took longer than its timeout_ms (20 ms) and was stopped");
    assertThat(((ServalException) failure.getCause()).kind()).isEqualTo(ErrorKind.DEADLINE_EXCEEDED);
    assertThat(held).isCancelled();
  }

  @Test
  void independentBranchesRunAtTheSameTimeAndTheFanInWaitsForBoth() throws Exception {
    // Each branch blocks until the other has started: run one after the other, the request could not finish.
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: sum, from: join.y}]\n"
        + "nodes:\n"
        + "  - {name: l, op: left, inputs: {x: x}}\n"
        + "  - {name: r, op: right, inputs: {x: x}}\n"
        + "  - {name: join, op: plus, inputs: {a: l.y, b: r.y}}\n");

    InferenceResult result = infer(pipeline, 1, 2).get(10, TimeUnit.SECONDS);

    assertThat(result.outputs()).singleElement().satisfies(sum -> {
      assertThat(sum.name()).isEqualTo("sum");
      assertThat(TestOperators.floats(sum)).containsExactly(12, 24);
    });
    assertThat(result.modelName()).isEqualTo("p");
    assertThat(result.id()).isEqualTo("r1");
  }

  @Test
  void aSwitchRunsTheBranchItsValuePicksAndTheJoinTakesIt() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}, {name: kind, datatype: BYTES,"
        + " dims: [1]}]\n"
        + "outputs: [{name: y, from: join.y}, {name: picked, from: route.case}]\n"
        + "nodes:\n"
        + "  - {name: route, op: switch, inputs: {value: kind}, params: {cases: {same: [same], bigger: [bigger]}}}\n"
        + "  - {name: same, op: count, inputs: {x: x}}\n"
        + "  - {name: bigger, op: times10, inputs: {x: x}}\n"
        + "  - {name: join, op: first, inputs: {a: same.y, b: bigger.y}}\n");

    InferenceResult bigger = route(pipeline, "bigger").get(10, TimeUnit.SECONDS);
    assertThat(TestOperators.floats(bigger.outputs().get(0))).containsExactly(10, 20);
    assertThat(new String(bigger.outputs().get(1).bytesElements().get(0), StandardCharsets.UTF_8)).isEqualTo("bigger");
    assertThat(counted).hasValue(0);

    InferenceResult same = route(pipeline, "same").get(10, TimeUnit.SECONDS);
    assertThat(TestOperators.floats(same.outputs().get(0))).containsExactly(1, 2);
    assertThat(counted).hasValue(1);

    Throwable unmatched = catchThrowable(() -> route(pipeline, "smaller").get(10, TimeUnit.SECONDS));
    assertThat(unmatched).cause().hasMessage(
        "pipeline 'p': node 'route': value 'smaller' matches no case (expected one of: same, bigger)");
    assertThat(((ServalException) unmatched.getCause()).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
  }

  private CompletableFuture<InferenceResult> route(Pipeline pipeline, String kind) {
    MemoryScope memory = MemoryScope.open();
    scopes.add(memory);
    return pipeline.infer(new InferenceRequest("", Map.of(), List.of(
        Tensor.ofFloats("x", new long[] {1, 2}, new float[] {1, 2}),
        Tensor.ofStrings("kind", new long[] {1}, List.of(kind))), null, true, 0, memory), executor);
  }

  @Test
  void anInferNodeCallsTheServedModel() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]\n"
        + "outputs: [{name: probabilities, from: scores.y}, {name: doubled, from: model.y}]\n"
        + "nodes:\n"
        + "  - {name: model, op: infer, inputs: {x: x}, params: {model: double}}\n"
        + "  - {name: scores, op: softmax, inputs: {x: model.y}}\n");

    InferenceResult result = infer(pipeline, 0, 0.5f, 1, 0).get(10, TimeUnit.SECONDS);

    assertThat(model.requests).hasValue(1);
    assertThat(TestOperators.floats(result.outputs().get(1))).containsExactly(0, 1, 2, 0);
    // softmax of (0, 1, 2, 0): e^v / (1 + e + e^2 + 1)
    double sum = 2 + Math.E + Math.exp(2);
    assertThat(TestOperators.floats(result.outputs().get(0))).usingComparatorWithPrecision(1e-6f)
        .containsExactly((float) (1 / sum), (float) (Math.E / sum), (float) (Math.exp(2) / sum), (float) (1 / sum));
  }

  @Test
  void theFirstFailureAnswersNamingItsNodeAndLaterNodesNeverRun() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: after.y}]\n"
        + "nodes:\n"
        + "  - {name: check, op: reject, inputs: {x: x}}\n"
        + "  - {name: after, op: count, inputs: {x: check.y}}\n");

    Throwable failure = catchThrowable(() -> infer(pipeline, 1, 2).get(10, TimeUnit.SECONDS));

    assertThat(failure).isInstanceOf(ExecutionException.class).cause().isInstanceOf(NodeFailedException.class)
        .hasMessage("pipeline 'p': node 'check': values out of range");
    assertThat(((ServalException) failure.getCause()).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(counted).hasValue(0);
    // The pipeline keeps serving.
    Pipeline healthy = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: c.y}]\n"
        + "nodes: [{name: c, op: count, inputs: {x: x}}]\n");
    assertThat(TestOperators.floats(infer(healthy, 3, 4).get(10, TimeUnit.SECONDS).outputs().get(0)))
        .containsExactly(3, 4);
  }

  @Test
  void anOperatorsBugIsAnInternalErrorOfItsNodeNeverAHang() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: after.y}]\n"
        + "nodes:\n"
        + "  - {name: buggy, op: broken, inputs: {x: x}}\n"
        + "  - {name: after, op: count, inputs: {x: buggy.y}}\n");

    Throwable failure = catchThrowable(() -> infer(pipeline, 1, 2).get(10, TimeUnit.SECONDS));

    assertThat(failure).cause().isInstanceOf(NodeFailedException.class).hasMessage("pipeline 'p': node 'buggy':"
        + " failed: java.lang.ArrayIndexOutOfBoundsException: Index 7 out of bounds for length 2");
    assertThat(((ServalException) failure.getCause()).kind()).isEqualTo(ErrorKind.INTERNAL);
    assertThat(counted).hasValue(0);
  }

  @Test
  void retryRunsANodeAgainOnlyForFailuresThatMayPass() throws Exception {
    Pipeline twice = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: f.y}]\n"
        + "nodes: [{name: f, op: flaky, inputs: {x: x}, retry: 2}]\n");
    assertThat(TestOperators.floats(infer(twice, 1, 2).get(10, TimeUnit.SECONDS).outputs().get(0)))
        .containsExactly(1, 2);
    assertThat(flakyRuns).hasValue(3);

    flakyRuns.set(0);
    Pipeline once = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: f.y}]\n"
        + "nodes: [{name: f, op: flaky, inputs: {x: x}, retry: 1}]\n");
    Throwable unavailable = catchThrowable(() -> infer(once, 1, 2).get(10, TimeUnit.SECONDS));
    assertThat(unavailable).cause().hasMessage("pipeline 'p': node 'f': the model is reloading");
    assertThat(((ServalException) unavailable.getCause()).kind()).isEqualTo(ErrorKind.UNAVAILABLE);
    assertThat(flakyRuns).hasValue(2);

    Pipeline badInput = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: after.y}]\n"
        + "nodes:\n"
        + "  - {name: check, op: reject, inputs: {x: x}, retry: 3}\n"
        + "  - {name: after, op: count, inputs: {x: check.y}}\n");
    List<String> heard = new CopyOnWriteArrayList<>();
    Throwable refused = catchThrowable(() -> badInput.observedBy((node, nanos, failure) -> heard.add(node))
        .infer(new InferenceRequest("", Map.of(), List.of(Tensor.ofFloats("x", new long[] {1, 2}, new float[2])),
            null, true, 0, open()), executor).get(10, TimeUnit.SECONDS));
    assertThat(((ServalException) refused.getCause()).kind()).isEqualTo(ErrorKind.INVALID_ARGUMENT);
    assertThat(heard).containsExactly("check");
  }

  @Test
  void aFallbackStandsInForAFailedNodeButNeverForABadInput() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: after.y}]\n"
        + "nodes:\n"
        + "  - {name: f, op: flaky, inputs: {x: x}, retry: 1, fallback: {y: [[-1, -2]]}}\n"
        + "  - {name: after, op: count, inputs: {x: f.y}}\n");
    List<String> heard = new CopyOnWriteArrayList<>();
    Pipeline observed = pipeline.observedBy((node, nanos, failure) -> heard.add(node + " " + failure));

    // Fails twice (as unavailable): the retry fails too, so the fallback's values go on to the next node.
    InferenceResult result = observed.infer(new InferenceRequest("r", Map.of(Pipeline.NODE_TIMINGS, true),
        List.of(Tensor.ofFloats("x", new long[] {1, 2}, new float[] {1, 2})), null, true, 0, open()), executor)
        .get(10, TimeUnit.SECONDS);
    assertThat(TestOperators.floats(result.outputs().get(0))).containsExactly(-1, -2);
    assertThat(flakyRuns).hasValue(2);
    assertThat(counted).hasValue(1);
    assertThat(heard).containsExactly("f UNAVAILABLE", "after null");
    assertThat(result.parameters().keySet()).containsExactly(
        "serval_node_us.f", "serval_node_fallback.f", "serval_node_us.after");
    assertThat(result.parameters().get("serval_node_fallback.f")).isEqualTo("UNAVAILABLE");
    assertThat(result.parameters().get("serval_node_us.f")).isInstanceOf(Long.class);

    // Once it passes, its own outputs are used; and no timings unless asked for.
    InferenceResult passed = infer(pipeline, 3, 4).get(10, TimeUnit.SECONDS);
    assertThat(TestOperators.floats(passed.outputs().get(0))).containsExactly(3, 4);
    assertThat(passed.parameters()).isEmpty();

    Pipeline badInput = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: check.y}]\n"
        + "nodes: [{name: check, op: reject, inputs: {x: x}, fallback: {y: [[0, 0]]}}]\n");
    Throwable refused = catchThrowable(() -> infer(badInput, 1, 2).get(10, TimeUnit.SECONDS));
    assertThat(refused).cause().hasMessage("pipeline 'p': node 'check': values out of range");
  }

  @Test
  void anInferNodeSplitsRowsPastTheModelsBatchAndAsksNothingForNone() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [-1, 4]}]\n"
        + "outputs: [{name: y, from: model.y}]\n"
        + "nodes: [{name: model, op: infer, inputs: {x: x}, params: {model: double}}]\n");
    float[] x = new float[20 * 4];
    for (int i = 0; i < x.length; i++) {
      x[i] = i;
    }

    // 20 rows, 8 at most per request: 8 + 8 + 4, joined in order.
    Tensor y = pipeline.infer(new InferenceRequest("r", Map.of(), List.of(Tensor.ofFloats("x", new long[] {20, 4}, x)),
        null, true, 0, open()), executor).get(10, TimeUnit.SECONDS).outputs().get(0);
    assertThat(y.shape()).containsExactly(20, 4);
    float[] doubled = TestOperators.floats(y);
    for (int i = 0; i < x.length; i++) {
      assertThat(doubled[i]).isEqualTo(2 * x[i]);
    }
    assertThat(model.requests).hasValue(3);

    Tensor none = pipeline.infer(new InferenceRequest("r", Map.of(), List.of(Tensor.ofFloats("x", new long[] {0, 4},
        new float[0])), null, true, 0, open()), executor).get(10, TimeUnit.SECONDS).outputs().get(0);
    assertThat(none.shape()).containsExactly(0, 4);
    assertThat(model.requests).hasValue(3);
  }

  @Test
  void nodeTimingsMustBeAskedForWithABoolean() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: c.y}]\n"
        + "nodes: [{name: c, op: count, inputs: {x: x}}]\n");
    Throwable refused = catchThrowable(() -> pipeline.infer(new InferenceRequest("r",
        Map.of(Pipeline.NODE_TIMINGS, "yes"), List.of(Tensor.ofFloats("x", new long[] {1, 2}, new float[2])), null,
        true, 0, open()), executor).get(10, TimeUnit.SECONDS));
    assertThat(refused).cause().hasMessage(
        "pipeline 'p': parameter 'serval_node_timings' is yes (expected: true or false)");
    assertThat(counted).hasValue(0);
  }

  private MemoryScope open() {
    MemoryScope memory = MemoryScope.open();
    scopes.add(memory);
    return memory;
  }

  @Test
  void inputsAreCheckedAgainstThePipelinesSignature() throws Exception {
    Pipeline pipeline = compile("inputs: [{name: x, datatype: FP32, dims: [1, 2]}]\n"
        + "outputs: [{name: y, from: c.y}]\n"
        + "nodes: [{name: c, op: count, inputs: {x: x}}]\n");

    Throwable failure = catchThrowable(() -> infer(pipeline, 1, 2, 3).get(10, TimeUnit.SECONDS));

    assertThat(failure).cause().isInstanceOf(ServalException.class).hasMessage(
        "pipeline 'p': input 'x' has shape [1,3]: dimension 1 is 3 (expected: 2, shape [1,2])");
    assertThat(counted).hasValue(0);
  }
}
