package io.serval.client;

/** How a {@link ServalClient} speaks the v2 protocol. */
public enum Transport {
  /** The v2 REST API, with the binary tensor extension for inference (Triton's HTTP port, 8000). */
  HTTP,
  /** The v2 gRPC service {@code inference.GRPCInferenceService} (Triton's gRPC port, 8001). */
  GRPC
}
