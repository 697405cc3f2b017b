/**
 * The protocol-neutral path of a prediction: both v2 front ends (HTTP, gRPC) decode into an {@link
 * io.serval.core.InferenceRequest} and hand it to {@link
 * io.serval.server.inference.InferenceService}, which resolves the model version, validates the inputs,
 * schedules the run, applies the classification extension and records the statistics.
 */
@NullMarked
package io.serval.server.inference;

import io.serval.core.InferenceRequest;
import org.jspecify.annotations.NullMarked;
