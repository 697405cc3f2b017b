package io.serval.engine;

import io.serval.core.MemoryScope;
import io.serval.core.Tensor;
import java.nio.ByteBuffer;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What one {@link ModelInstance#run} gets besides its inputs: the memory scope its outputs are allocated in, and a
 * way to be stopped. The server aborts a run that outlasts the model's {@code max_run_time}; an engine that can
 * interrupt a running model registers how with {@link #onAbort} (ONNX Runtime: {@code RunOptions.setTerminate}).
 *
 * <pre>{@code
 * public RunResult run(List<Tensor> inputs, List<String> outputNames, RunContext context) {
 *   try (RunOptions options = new RunOptions()) {
 *     context.onAbort(() -> options.setTerminate(true));
 *     ...
 *     ByteBuffer out = context.allocate(bytes);
 * }
 * }</pre>
 */
public final class RunContext {
  private final MemoryScope outputs;
  private @Nullable Runnable abortAction;
  private boolean aborted;

  private RunContext(MemoryScope outputs) {
    this.outputs = outputs;
  }

  /** A context whose outputs live in {@code outputs}. */
  public static RunContext of(MemoryScope outputs) {
    return new RunContext(Objects.requireNonNull(outputs, "outputs"));
  }

  /** A buffer for output data, freed with the scope the server passed in. */
  public ByteBuffer allocate(long bytes) {
    return outputs.allocate(bytes);
  }

  /**
   * Registers how to stop this run; called at once if the run was already aborted. One action per run: a
   * later call replaces the earlier one.
   */
  public void onAbort(Runnable action) {
    boolean now;
    synchronized (this) {
      abortAction = action;
      now = aborted;
    }
    if (now) {
      action.run();
    }
  }

  /** Asks the run to stop; the engine's {@link #onAbort} action runs, and the run should then throw. */
  public void abort() {
    Runnable action;
    synchronized (this) {
      if (aborted) {
        return;
      }
      aborted = true;
      action = abortAction;
    }
    if (action != null) {
      action.run();
    }
  }

  /** Whether {@link #abort} has been called. */
  public synchronized boolean isAborted() {
    return aborted;
  }
}
