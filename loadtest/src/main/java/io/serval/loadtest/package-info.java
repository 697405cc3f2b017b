/**
 * The load tool and the engine baseline. {@link io.serval.loadtest.LoadTool} is the {@code serval-load}
 * command (start there): options in {@code LoadOptions}, requests built once per sample by a {@code Target} (HTTP
 * or gRPC), load offered and measured by {@code LoadRun}, results written by {@code Reports}. {@link
 * io.serval.loadtest.RawOnnxRuntimeBenchmark} runs a model with ONNX Runtime's own Java API in-process, the
 * ceiling that served throughput is compared to.
 */
@NullMarked
package io.serval.loadtest;

import org.jspecify.annotations.NullMarked;
