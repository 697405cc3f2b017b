/**
 * The Serval server. A request enters through a protocol front end ({@code protocol.v2.http}, {@code
 * protocol.v2.grpc}), becomes a protocol-neutral request in {@code inference}, is routed to a model version by
 * {@code repository}, waits for an instance in {@code scheduling}, runs on an engine found by {@code engines},
 * and is measured in {@code metrics}. Start reading at {@link io.serval.server.ServalServer}; {@link
 * io.serval.server.Main} is the command line.
 */
@NullMarked
package io.serval.server;

import org.jspecify.annotations.NullMarked;
