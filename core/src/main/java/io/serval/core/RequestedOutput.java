package io.serval.core;

import java.util.Map;

/**
 * An output a request asks for: whether it comes back as binary tensor data, and the classification
 * extension's class count (0 for the raw tensor).
 */
public final class RequestedOutput {
  private final String name;
  private final boolean binary;
  private final int classification;

  public RequestedOutput(String name, boolean binary, int classification) {
    this.name = name;
    this.binary = binary;
    this.classification = classification;
  }

  /**
   * The output {@code name} as its request parameters ask for it: {@code binary_data} (HTTP only; default
   * {@code binaryDefault}) and {@code classification}. Both front ends read outputs here, so they check alike.
   */
  public static RequestedOutput of(String name, Map<String, Object> parameters, boolean binaryDefault) {
    String what = "output '" + name + "'";
    InferenceRequest.rejectSharedMemory(parameters, what);
    Object binary = parameters.getOrDefault("binary_data", binaryDefault);
    if (!(binary instanceof Boolean)) {
      throw new InvalidInputException(what + ": binary_data is " + binary + " (expected: true or false)");
    }
    Object classification = parameters.getOrDefault("classification", 0L);
    if (!(classification instanceof Long) || (Long) classification < 0 || (Long) classification > Integer.MAX_VALUE) {
      throw new InvalidInputException(
          what + ": classification is " + classification + " (expected: a class count >= 1)");
    }
    return new RequestedOutput(name, (Boolean) binary, (int) (long) (Long) classification);
  }

  public String name() {
    return name;
  }

  /** Whether the HTTP response carries this output as binary data after the JSON header. */
  public boolean binary() {
    return binary;
  }

  /** How many top classes to return, or 0 for the tensor itself. */
  public int classification() {
    return classification;
  }
}
