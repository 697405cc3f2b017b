package io.serval.dag;

import io.serval.core.DeadlineExceededException;
import io.serval.core.ErrorKind;
import io.serval.core.InferenceRequest;
import io.serval.core.InferenceResult;
import io.serval.core.InputValidator;
import io.serval.core.InvalidInputException;
import io.serval.core.ModelSignature;
import io.serval.core.OverloadedException;
import io.serval.core.RequestTimings;
import io.serval.core.RequestedOutput;
import io.serval.core.SchedulingClock;
import io.serval.core.Servable;
import io.serval.core.ServalException;
import io.serval.core.Tensor;
import io.serval.core.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A compiled pipeline, served like a model. Each request runs every node once its sources are done, so nodes
 * that do not depend on each other run at the same time on the caller's executor (an {@code infer} node waits
 * in its model's queue without holding a thread). The first node to fail answers the request, naming the node,
 * with the kind of its failure, and nodes that have not started are not started.
 */
public final class Pipeline implements Servable {
  /**
   * A node ready to run: its operator, where each of its inputs comes from, its outputs' names, its timeout (0:
   * none), how often it is retried, and the outputs it takes when it fails (null: its failure fails the request).
   */
  record Step(String name, Operator operator, List<String> sources, @Nullable Gate gate, boolean joins,
      List<String> outputNames, long timeoutMillis, int retries, @Nullable List<Tensor> fallback) {}

  /** The switch case a node runs in: {@code node} (a switch) must pick {@code key}. */
  record Gate(String node, String key) {}

  /** The failures a node's {@code retry} tries again after: those that may pass. */
  private static final Set<ErrorKind> RETRYABLE = EnumSet.of(
      ErrorKind.UNAVAILABLE, ErrorKind.OVERLOADED, ErrorKind.DEADLINE_EXCEEDED, ErrorKind.INTERNAL);
  /** The failures a node's {@code fallback} stands in for: all but those of the request itself. */
  private static final Set<ErrorKind> FALLS_BACK = EnumSet.complementOf(
      EnumSet.of(ErrorKind.INVALID_ARGUMENT, ErrorKind.TOO_LARGE, ErrorKind.CANCELLED));
  /** The request parameter that asks for each node's time in the response's parameters. */
  public static final String NODE_TIMINGS = "serval_node_timings";
  /** Response parameter {@code <prefix><node>}: how long the node took, in microseconds. */
  public static final String NODE_MICROS = "serval_node_us.";
  /** Response parameter {@code <prefix><node>}: the kind of failure a node's fallback stood in for. */
  public static final String NODE_FALLBACK = "serval_node_fallback.";

  /** What a node that did not run yields: its case was not picked, or a node it reads did not run. */
  private static final List<Tensor> SKIPPED = Collections.unmodifiableList(new ArrayList<>());

  private final String name;
  private final ModelSignature signature;
  private final List<Step> steps;
  /** Each node's index among its outputs, by source ({@code node.output}): computed once, read per request. */
  private final Map<String, Integer> outputIndex = new HashMap<>();
  private final List<String> outputSources;
  /** The nodes the request's answer waits for (those its outputs come from), once each. */
  private final List<String> answeringNodes;
  private final SchedulingClock clock;
  private final int maxInflight;
  private final AtomicInteger inflight = new AtomicInteger();
  private final NodeObserver observer;

  Pipeline(String name, List<TensorSpec> inputs, List<TensorSpec> outputs, List<Step> steps,
      List<String> outputSources, SchedulingClock clock, int maxInflight, NodeObserver observer) {
    this.clock = clock;
    this.maxInflight = maxInflight;
    this.observer = observer;
    this.name = name;
    this.signature = ModelSignature.of(inputs, outputs);
    this.steps = List.copyOf(steps);
    for (Step step : steps) {
      for (int i = 0; i < step.outputNames().size(); i++) {
        outputIndex.put(step.name() + "." + step.outputNames().get(i), i);
      }
    }
    this.outputSources = List.copyOf(outputSources);
    this.answeringNodes = outputSources.stream().map(source -> source.substring(0, source.indexOf('.')))
        .distinct().toList();
  }

  /** The same pipeline, telling {@code nodeObserver} how each node of each request went. */
  public Pipeline observedBy(NodeObserver nodeObserver) {
    return new Pipeline(name, signature.inputs(), signature.outputs(), steps, outputSources, clock, maxInflight,
        nodeObserver);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String version() {
    return "1";
  }

  @Override
  public ModelSignature signature() {
    return signature;
  }

  /** Pipelines take whole requests: their nodes batch inside the models they call. */
  @Override
  public int maxBatchSize() {
    return 0;
  }

  @Override
  public String label() {
    return "pipeline '" + name + "'";
  }

  @Override
  public CompletableFuture<InferenceResult> infer(InferenceRequest request, Executor executor) {
    List<RequestedOutput> requested;
    boolean timings;
    try {
      InputValidator.validate(label(), signature, 0, request.inputs());
      requested = requestedOutputs(request);
      timings = timingsAsked(request);
    } catch (ServalException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (inflight.incrementAndGet() > maxInflight) {
      inflight.decrementAndGet();
      return CompletableFuture.failedFuture(new OverloadedException(label() + ": " + maxInflight
          + " requests are in flight (its max_inflight); retry later"));
    }
    CompletableFuture<InferenceResult> result = new Run(request, executor, requested, timings).start();
    result.whenComplete((value, error) -> inflight.decrementAndGet());
    return result;
  }

  private List<RequestedOutput> requestedOutputs(InferenceRequest request) {
    List<RequestedOutput> requested = request.outputsOf(label(), signature);
    for (RequestedOutput output : requested) {
      if (output.classification() > 0) {
        throw new InvalidInputException(label() + ": output '" + output.name() + "' asks for classification,"
            + " which pipelines do not apply (use a top-k node)");
      }
    }
    return requested;
  }

  private boolean timingsAsked(InferenceRequest request) {
    Object asked = request.parameters().getOrDefault(NODE_TIMINGS, false);
    if (!(asked instanceof Boolean)) {
      throw new InvalidInputException(label() + ": parameter '" + NODE_TIMINGS + "' is " + asked
          + " (expected: true or false)");
    }
    return (Boolean) asked;
  }

  /** One request going through the nodes. */
  private final class Run {
    final InferenceRequest request;
    final Executor executor;
    final List<RequestedOutput> requested;
    final long started = System.nanoTime();
    final CompletableFuture<InferenceResult> result = new CompletableFuture<>();
    final Map<String, CompletableFuture<List<Tensor>>> done = new HashMap<>();
    /** The nodes under way, by their operator's future. */
    final Map<CompletableFuture<List<Tensor>>, String> running = new ConcurrentHashMap<>();
    /** The response's parameters: each node's time and fallback, when the request asks for them. */
    final @Nullable Map<String, Object> nodeTimings;

    Run(InferenceRequest request, Executor executor, List<RequestedOutput> requested, boolean timings) {
      this.request = request;
      this.executor = executor;
      this.requested = requested;
      this.nodeTimings = timings ? new ConcurrentHashMap<>() : null;
    }

    CompletableFuture<InferenceResult> start() {
      Map<String, Tensor> given = new HashMap<>();
      request.inputs().forEach(input -> given.put(input.name(), input));
      // No node starts before every node's future is in 'done' (which nodes read from the pipeline's threads):
      // completing this after the loop publishes the whole map to them.
      CompletableFuture<Void> wired = new CompletableFuture<>();
      for (Step step : steps) {
        List<CompletableFuture<?>> waits = new ArrayList<>();
        waits.add(wired);
        for (String source : step.sources()) {
          int dot = source.indexOf('.');
          if (dot >= 0) {
            waits.add(done.get(source.substring(0, dot)));
          }
        }
        if (step.gate() != null) {
          waits.add(done.get(step.gate().node()));
        }
        // A node's own failure answers the request; a node whose source failed just never runs.
        CompletableFuture<List<Tensor>> outputs = CompletableFuture.allOf(waits.toArray(CompletableFuture[]::new))
            .thenComposeAsync(ignored -> {
              if (skipped(step)) {
                return CompletableFuture.completedFuture(SKIPPED);
              }
              long nodeStarted = clock.nanoTime();
              return attempt(step, given, step.retries()).handle((value, error) -> {
                long took = clock.nanoTime() - nodeStarted;
                ErrorKind kind = error == null ? null : ServalException.of(error).kind();
                observer.finished(step.name(), took, kind);
                if (nodeTimings != null) {
                  nodeTimings.put(NODE_MICROS + step.name(), TimeUnit.NANOSECONDS.toMicros(took));
                }
                if (error == null) {
                  return value;
                }
                if (step.fallback() != null && FALLS_BACK.contains(kind) && !result.isDone()) {
                  if (nodeTimings != null) {
                    nodeTimings.put(NODE_FALLBACK + step.name(), kind.name());
                  }
                  return step.fallback();
                }
                fail(step, error);
                throw new CompletionException(error);
              });
            }, executor);
        done.put(step.name(), outputs);
      }
      wired.complete(null);
      List<CompletableFuture<List<Tensor>>> answers = new ArrayList<>();
      answeringNodes.forEach(node -> answers.add(done.get(node)));
      CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).whenComplete((ignored, error) -> {
        if (error == null) {
          try {
            answer();
          } catch (RuntimeException e) {
            result.completeExceptionally(ServalException.of(e));
          }
        } else {
          // A node's own failure has answered already; anything else (a bug here) must not leave the caller waiting.
          result.completeExceptionally(ServalException.of(error));
        }
      });
      if (request.deadlineNanos() != 0) {
        Runnable stopTimer = clock.schedule(this::deadlinePassed, request.deadlineNanos() - clock.nanoTime());
        result.whenComplete((value, error) -> stopTimer.run());
      }
      // An answer, a failure or a caller that gives up stops the nodes under way (an infer node leaves its
      // model's queue).
      result.whenComplete((value, error) -> running.keySet().forEach(node -> node.cancel(false)));
      return result;
    }

    private void deadlinePassed() {
      List<String> under = running.values().stream().sorted().map(node -> "'" + node + "'").toList();
      result.completeExceptionally(new DeadlineExceededException(label() + ": the request's deadline passed"
          + (under.isEmpty() ? "" : " while node(s) " + String.join(", ", under) + " ran")
          + "; the nodes after them were not started"));
    }

    /**
     * Runs a node, and runs it again up to {@code retries} times while it fails for a reason that may pass
     * (unavailable, overloaded, timed out, internal) and the request is still waiting for an answer.
     */
    private CompletableFuture<List<Tensor>> attempt(Step step, Map<String, Tensor> given, int retries) {
      CompletableFuture<List<Tensor>> own;
      try {
        own = run(step, given);
      } catch (RuntimeException | LinkageError e) {
        own = CompletableFuture.failedFuture(e);
      }
      if (retries == 0) {
        return own;
      }
      return own.handle((value, error) -> {
        if (error == null) {
          return CompletableFuture.completedFuture(value);
        }
        return RETRYABLE.contains(ServalException.of(error).kind()) && !result.isDone()
            ? attempt(step, given, retries - 1)
            : CompletableFuture.<List<Tensor>>failedFuture(error);
      }).thenCompose(Function.identity());
    }

    /** Whether a node is not to run: its case was not picked, or it reads a node that did not run. */
    private boolean skipped(Step step) {
      if (step.gate() != null) {
        List<Tensor> gate = done.get(step.gate().node()).join();
        if (gate == SKIPPED || !SwitchOperator.picked(gate).equals(step.gate().key())) {
          return true;
        }
      }
      boolean any = false;
      boolean all = true;
      for (String source : step.sources()) {
        int dot = source.indexOf('.');
        boolean skippedSource = dot >= 0 && done.get(source.substring(0, dot)).join() == SKIPPED;
        any |= skippedSource;
        all &= skippedSource;
      }
      return step.joins() ? all : any;
    }

    private CompletableFuture<List<Tensor>> run(Step step, Map<String, Tensor> given) {
      if (result.isDone()) {
        return CompletableFuture.failedFuture(new CancellationException("the request already has its answer"));
      }
      Map<String, Tensor> inputs = new HashMap<>();
      List<String> names = step.operator().inputNames();
      for (int i = 0; i < names.size(); i++) {
        Tensor value = valueOf(step.sources().get(i), given);
        if (value != null) {
          inputs.put(names.get(i), value);
        }
      }
      CompletableFuture<List<Tensor>> outputs;
      try {
        outputs = step.operator().run(inputs, new NodeContext(step.name(), request.memory(), executor,
            request.deadlineNanos()));
      } catch (RuntimeException | LinkageError e) {
        return CompletableFuture.failedFuture(e);
      }
      // A broken operator must fail its node, never leave the request unanswered.
      if (outputs == null) {
        return CompletableFuture.failedFuture(new IllegalStateException(
            "operator " + step.operator().getClass().getName() + " returned no future"));
      }
      running.put(outputs, step.name());
      outputs.whenComplete((value, error) -> running.remove(outputs));
      if (step.timeoutMillis() == 0) {
        return outputs;
      }
      // Past its timeout the node fails, and its operator's work is cancelled (a model request leaves the queue).
      CompletableFuture<List<Tensor>> timed = new CompletableFuture<>();
      Runnable stopTimer = clock.schedule(() -> {
        timed.completeExceptionally(new DeadlineExceededException(
            "took longer than its timeout_ms (" + step.timeoutMillis() + " ms) and was stopped"));
        outputs.cancel(false);
      }, TimeUnit.MILLISECONDS.toNanos(step.timeoutMillis()));
      outputs.whenComplete((value, error) -> {
        stopTimer.run();
        if (error != null) {
          timed.completeExceptionally(error);
        } else {
          timed.complete(value);
        }
      });
      return timed;
    }

    /** A finished source's tensor: a request input, or a node's output by name; null for a skipped node's. */
    private @Nullable Tensor valueOf(String source, Map<String, Tensor> given) {
      int dot = source.indexOf('.');
      if (dot < 0) {
        return given.get(source);
      }
      List<Tensor> outputs = done.get(source.substring(0, dot)).join();
      return outputs == SKIPPED ? null : outputs.get(outputIndex.get(source));
    }

    private void fail(Step step, Throwable error) {
      Throwable cause = ServalException.unwrapped(error);
      if (cause instanceof CancellationException && result.isDone()) {
        return;
      }
      String message = cause instanceof ServalException ? cause.getMessage() : "failed: " + cause;
      result.completeExceptionally(new NodeFailedException(
          ServalException.of(cause).kind(), label() + ": node '" + step.name() + "': " + message, cause));
    }

    private void answer() {
      List<Tensor> tensors = new ArrayList<>();
      for (RequestedOutput output : requested) {
        int index = signatureIndex(output.name());
        tensors.add(valueOf(outputSources.get(index), Map.of()).withName(output.name()));
      }
      result.complete(new InferenceResult(name, version(), request.id(), tensors, requested,
          new RequestTimings(0, 0, System.nanoTime() - started, 0), parameters()));
    }

    /** The node timings asked for, in the nodes' order (skipped nodes have none); otherwise none. */
    private Map<String, Object> parameters() {
      if (nodeTimings == null) {
        return Map.of();
      }
      Map<String, Object> parameters = new LinkedHashMap<>();
      for (Step step : steps) {
        for (String key : List.of(NODE_MICROS + step.name(), NODE_FALLBACK + step.name())) {
          Object value = nodeTimings.get(key);
          if (value != null) {
            parameters.put(key, value);
          }
        }
      }
      return parameters;
    }

    private int signatureIndex(String output) {
      List<TensorSpec> outputs = signature.outputs();
      for (int i = 0; i < outputs.size(); i++) {
        if (outputs.get(i).name().equals(output)) {
          return i;
        }
      }
      throw new IllegalStateException(output);
    }
  }
}
