/**
 * Configuration: the server's ({@link io.serval.server.config.ServerConfig}, YAML with environment and
 * command-line overrides) and each model's ({@link io.serval.server.config.ModelConfig}, the model folder's
 * {@code config.yaml}). Both are read through {@link io.serval.server.config.ConfigReader}, which reports every
 * error with its file and field; a failed read is a {@link io.serval.server.config.ConfigException} listing all
 * of them.
 */
@NullMarked
package io.serval.server.config;

import org.jspecify.annotations.NullMarked;
