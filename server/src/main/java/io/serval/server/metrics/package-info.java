/**
 * Measurements of inference: {@link io.serval.server.metrics.ModelStatistics} accumulates them per model
 * version (the v2 statistics extension reads it) and {@link io.serval.server.metrics.ModelMetrics} publishes
 * the same measurements to Micrometer (Prometheus on {@code /metrics}), so the two can never disagree.
 */
@NullMarked
package io.serval.server.metrics;

import org.jspecify.annotations.NullMarked;
