/**
 * The KServe v2 gRPC front end ({@code inference.GRPCInferenceService}): {@link
 * io.serval.server.protocol.v2.grpc.V2GrpcService} answers the methods, {@link
 * io.serval.server.protocol.v2.grpc.GrpcInferCodec} turns infer messages into requests and results into
 * responses, with every output in {@code raw_output_contents} as Triton's clients expect.
 */
@NullMarked
package io.serval.server.protocol.v2.grpc;

import org.jspecify.annotations.NullMarked;
