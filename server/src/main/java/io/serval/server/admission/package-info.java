/**
 * The server-wide budget of work in flight: how many prediction requests, and how many request bytes, may be
 * accepted at once. Start with {@link io.serval.server.admission.AdmissionControl}, the decorator both front ends'
 * infer routes sit behind; work over budget is refused before its body is read where the protocol says its size.
 */
@NullMarked
package io.serval.server.admission;

import org.jspecify.annotations.NullMarked;
