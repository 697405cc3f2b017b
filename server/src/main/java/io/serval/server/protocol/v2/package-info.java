/**
 * The KServe v2 messages both front ends answer with: {@link io.serval.server.protocol.v2.V2Messages} builds
 * metadata, model configuration, statistics and repository index as protobuf messages from the repository, and
 * {@link io.serval.server.protocol.v2.ProtoJson} renders them as the JSON the HTTP front end returns, so the
 * two protocols always say the same thing.
 */
@NullMarked
package io.serval.server.protocol.v2;

import org.jspecify.annotations.NullMarked;
