/**
 * Finds the engines on the class path ({@link java.util.ServiceLoader}) and creates them with their share of the
 * CPU budget: start at {@link io.serval.server.engines.EngineRegistry}.
 */
@NullMarked
package io.serval.server.engines;

import org.jspecify.annotations.NullMarked;
