/**
 * Benchmark harnesses run by the scripts in {@code loadtest/}: {@link
 * io.serval.loadtest.RawOnnxRuntimeBenchmark} runs a model with ONNX Runtime's own Java API in-process, the
 * baseline that the served numbers (measured with perf_analyzer) are compared to.
 */
@NullMarked
package io.serval.loadtest;

import org.jspecify.annotations.NullMarked;
