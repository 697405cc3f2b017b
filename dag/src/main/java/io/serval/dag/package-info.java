/**
 * Pipelines: a DAG of operators served like a model ({@link io.serval.dag.Pipeline}, a {@link
 * io.serval.core.Servable}). A {@link io.serval.dag.PipelineDefinition} (the {@code pipeline.yaml}) is compiled
 * by {@link io.serval.dag.PipelineCompiler} with the {@link io.serval.dag.OperatorFactory}s found on the classpath
 * into a checked pipeline, or refused with every problem. See docs/pipelines.md.
 */
@NullMarked
package io.serval.dag;

import org.jspecify.annotations.NullMarked;
