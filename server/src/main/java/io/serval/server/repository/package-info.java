/**
 * Where models are found, loaded and looked up: {@link io.serval.server.repository.ModelRepository} scans the
 * repository folders ({@code <repo>/<model>/config.yaml}, {@code <repo>/<model>/<version>/model.onnx}), applies
 * each model's version policy and loads the chosen versions into {@link
 * io.serval.server.repository.ModelVersion}s; a broken model or version is kept with its reason and never stops
 * the others.
 */
@NullMarked
package io.serval.server.repository;

import org.jspecify.annotations.NullMarked;
