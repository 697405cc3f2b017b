package io.serval.server.scheduling;

import io.serval.core.RequestTimings;
import io.serval.core.Tensor;
import java.util.List;

/** The outputs of one engine run for one request, with the time it waited and ran. */
public final class Execution {
  private final List<Tensor> outputs;
  private final RequestTimings timings;

  Execution(List<Tensor> outputs, RequestTimings timings) {
    this.outputs = List.copyOf(outputs);
    this.timings = timings;
  }

  /** The outputs, in the order they were asked for. */
  public List<Tensor> outputs() {
    return outputs;
  }

  /** Queue and compute times; the caller adds its own output work to the output phase. */
  public RequestTimings timings() {
    return timings;
  }
}
