/**
 * Benchmarks of the client itself, run by hand against a running server rather than by the test suite. Start with
 * {@link io.serval.client.bench.SdkOverheadBench}, the driver of {@code loadtest/sdk-bench.sh}: the SDK over gRPC
 * and HTTP against the bare generated gRPC stub, one mode per process.
 */
@NullMarked
package io.serval.client.bench;

import org.jspecify.annotations.NullMarked;
