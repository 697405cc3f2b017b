/** A ServiceLoader engine for tests that throws, hangs or blocks on demand; see {@link io.serval.server.testengine.TestEngine}. */
@NullMarked
package io.serval.server.testengine;

import org.jspecify.annotations.NullMarked;
