package io.serval.server.inference;

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
