package io.serval.server.routing;

import com.linecorp.armeria.server.ServiceRequestContext;
import io.serval.core.InferenceResult;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The headers of the call a request came in, as a route reads them: {@value #KEY_HEADER} (the sticky key), {@value
 * #VARIANT_HEADER} (a variant forced), and the route's own {@code key_header}. Request parameters {@value
 * #KEY_PARAMETER} and {@value #VARIANT_PARAMETER} say the same and win over the headers.
 */
public final class RouteHints {
  public static final String KEY_HEADER = "serval-route-key";
  public static final String VARIANT_HEADER = "serval-variant";
  public static final String KEY_PARAMETER = "serval_route_key";
  public static final String VARIANT_PARAMETER = "serval_variant";
  /** No headers: a call from inside the server. */
  public static final RouteHints NONE = new RouteHints(name -> null);

  private final Function<String, @Nullable String> headers;

  private RouteHints(Function<String, @Nullable String> headers) {
    this.headers = headers;
  }

  /** Hints read from {@code headers} (a header's value by lower-case name, or {@code null}). */
  public static RouteHints of(Function<String, @Nullable String> headers) {
    return new RouteHints(headers);
  }

  @Nullable String header(String name) {
    return headers.apply(name);
  }

  /** Adds the {@value #VARIANT_HEADER} response header when a route answered {@code result}. */
  public static void reportVariant(ServiceRequestContext ctx, InferenceResult result) {
    Object variant = result.parameters().get(VARIANT_PARAMETER);
    if (variant != null) {
      ctx.addAdditionalResponseHeader(VARIANT_HEADER, variant.toString());
    }
  }
}
