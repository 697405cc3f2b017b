package io.serval.client;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Serval only: a model's version labels ({@code stable -> 1}) and the version requests without one go to.
 *
 * @param model the model
 * @param labels each label's version number
 * @param defaultVersion the default version (a number or a label), or {@code null} for the highest ready one
 */
public record VersionLabels(String model, Map<String, Long> labels, @Nullable String defaultVersion) {}
