/**
 * Where requests wait for a model instance and where the engine runs: {@link
 * io.serval.server.scheduling.InstancePool} keeps one worker thread per instance, off the event loops, taking
 * requests from the version's queue.
 */
@NullMarked
package io.serval.server.scheduling;

import org.jspecify.annotations.NullMarked;
