/**
 * The KServe v2 HTTP/REST front end, as Triton speaks it: {@link
 * io.serval.server.protocol.v2.http.V2HttpService} routes the endpoints; an infer request body is decompressed
 * by {@link io.serval.server.protocol.v2.http.RequestBodies}, split and decoded by {@link
 * io.serval.server.protocol.v2.http.HttpInferDecoder} (JSON tensors and the binary tensor extension), and the
 * result is written by {@link io.serval.server.protocol.v2.http.HttpInferEncoder}.
 */
@NullMarked
package io.serval.server.protocol.v2.http;

import org.jspecify.annotations.NullMarked;
