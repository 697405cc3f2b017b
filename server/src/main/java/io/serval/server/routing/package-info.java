/** A/B routes: logical names served like models, splitting traffic between variants, with a shadow. */
@NullMarked
package io.serval.server.routing;

import org.jspecify.annotations.NullMarked;
