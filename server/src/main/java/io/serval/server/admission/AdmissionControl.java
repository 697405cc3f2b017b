package io.serval.server.admission;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.server.DecoratingHttpServiceFunction;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.AttributeKey;
import io.serval.core.OverloadedException;
import io.serval.server.protocol.v2.grpc.GrpcErrors;
import io.serval.server.protocol.v2.http.HttpErrors;
import java.lang.management.ManagementFactory;
import org.jspecify.annotations.Nullable;

/**
 * The server-wide budget of prediction work in flight, as a decorator of the infer routes of both front ends. A
 * request takes one of {@code limits.max_inflight_requests} slots when its headers arrive, and as many of {@code
 * limits.max_inflight_bytes} as its {@code content-length} says, so work over budget is refused before its body is
 * buffered; a body of unknown length (chunked HTTP, gRPC) is charged when it has been read ({@link #charge}).
 * Everything is given back when the response completes, whatever its outcome. A refusal is HTTP 429 with {@code
 * Retry-After: 1}, or gRPC RESOURCE_EXHAUSTED, and counts in {@code serval_admission_refused_total}.
 *
 * <pre>{@code
 * AdmissionControl admission = AdmissionControl.of(512, 768L << 20, registry);
 * serverBuilder.route().post("/v2/models/{model}/infer").decorator(admission).build(service);
 * }</pre>
 */
public final class AdmissionControl implements DecoratingHttpServiceFunction {
  private static final AttributeKey<Permit> PERMIT = AttributeKey.valueOf(AdmissionControl.class, "PERMIT");

  private final int maxRequests;
  private final long maxBytes;
  private final Counter refusedRequests;
  private final Counter refusedBytes;
  private int requests;
  private long bytes;

  private AdmissionControl(int maxRequests, long maxBytes, MeterRegistry registry) {
    this.maxRequests = maxRequests;
    this.maxBytes = maxBytes;
    this.refusedRequests = Counter.builder("serval.admission.refused")
        .description("Prediction requests refused because the server's in-flight budget was spent")
        .tag("budget", "requests").register(registry);
    this.refusedBytes = Counter.builder("serval.admission.refused")
        .description("Prediction requests refused because the server's in-flight budget was spent")
        .tag("budget", "bytes").register(registry);
    Gauge.builder("serval.admission.inflight.requests", this, AdmissionControl::requests).register(registry);
    Gauge.builder("serval.admission.inflight.bytes", this, AdmissionControl::bytes).baseUnit("bytes")
        .register(registry);
  }

  /** A budget of {@code maxRequests} requests and {@code maxBytes} request bytes in flight. */
  public static AdmissionControl of(int maxRequests, long maxBytes, MeterRegistry registry) {
    if (maxRequests < 1) {
      throw new IllegalArgumentException("maxRequests: " + maxRequests + " (expected: >= 1)");
    }
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 1)");
    }
    return new AdmissionControl(maxRequests, maxBytes, registry);
  }

  /**
   * The default byte budget: an eighth of the smaller of the heap and direct-memory limits of this JVM. A request
   * in flight holds its body about three times at its peak (network buffers, the decoded message, its tensors), so
   * the budget keeps that under half of either limit.
   */
  public static long defaultMaxBytes() {
    long heap = Runtime.getRuntime().maxMemory();
    return Math.max(64L << 20, Math.min(heap, maxDirectMemory(heap)) / 8);
  }

  /**
   * The default request budget: 64 per core (at least 128), enough to keep every instance fed with full batches
   * while bounding the request bodies being received at once (their size is known only once read, for gRPC).
   */
  public static int defaultMaxRequests() {
    return 64 * Math.max(2, Runtime.getRuntime().availableProcessors());
  }

  private static long maxDirectMemory(long heap) {
    try {
      String value = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
          .getVMOption("MaxDirectMemorySize").getValue();
      long configured = Long.parseLong(value);
      return configured > 0 ? configured : heap;
    } catch (RuntimeException e) {
      return heap;
    }
  }

  @Override
  public HttpResponse serve(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
    long declared = Math.max(0, req.headers().contentLength());
    String refusal = tryAcquire(1, declared);
    if (refusal != null) {
      // Drop the body as it arrives rather than buffering it for nobody: a refused request costs no memory.
      req.abort();
      return refuse(ctx, req, refusal);
    }
    Permit permit = new Permit(declared);
    ctx.setAttr(PERMIT, permit);
    ctx.log().whenComplete().thenRun(() -> release(permit));
    return delegate.serve(ctx, req);
  }

  /**
   * Charges a request whose size was not known from its headers for its {@code size} bytes, now that they have
   * been read; a request already charged for them pays nothing more.
   *
   * @throws OverloadedException when the byte budget cannot hold them
   */
  public static void charge(ServiceRequestContext ctx, long size) {
    Permit permit = ctx.attr(PERMIT);
    if (permit == null) {
      return;
    }
    permit.owner().chargeMore(permit, size);
  }

  private void chargeMore(Permit permit, long size) {
    long extra;
    synchronized (permit) {
      extra = size - permit.bytes;
      if (extra <= 0) {
        return;
      }
    }
    String refusal = tryAcquire(0, extra);
    if (refusal != null) {
      throw new OverloadedException(refusal);
    }
    synchronized (permit) {
      permit.bytes += extra;
    }
  }

  private synchronized @Nullable String tryAcquire(int count, long size) {
    if (requests + count > maxRequests) {
      refusedRequests.increment();
      return "the server has " + requests + " prediction requests in flight, its limit"
          + " (limits.max_inflight_requests " + maxRequests + "); retry later";
    }
    if (bytes + size > maxBytes) {
      refusedBytes.increment();
      return "the server holds " + bytes + " bytes of requests in flight and this one needs " + size
          + " more (limits.max_inflight_bytes " + maxBytes + "); retry later";
    }
    requests += count;
    bytes += size;
    return null;
  }

  private void release(Permit permit) {
    long size;
    synchronized (permit) {
      size = permit.bytes;
      permit.bytes = 0;
    }
    synchronized (this) {
      requests--;
      bytes -= size;
    }
  }

  private synchronized int requests() {
    return requests;
  }

  private synchronized long bytes() {
    return bytes;
  }

  /** The refusal, in the protocol of the request: a gRPC status in trailers, or HTTP 429 with a v2 error body. */
  private static HttpResponse refuse(ServiceRequestContext ctx, HttpRequest req, String message) {
    MediaType contentType = req.contentType();
    if (contentType != null && GrpcErrors.isGrpc(contentType)) {
      return GrpcErrors.trailersOnly(contentType, Status.Code.RESOURCE_EXHAUSTED, message);
    }
    return HttpErrors.response(ctx, new OverloadedException(message));
  }

  /** What one request holds of the budget. */
  private final class Permit {
    private long bytes;

    Permit(long bytes) {
      this.bytes = bytes;
    }

    AdmissionControl owner() {
      return AdmissionControl.this;
    }
  }
}
