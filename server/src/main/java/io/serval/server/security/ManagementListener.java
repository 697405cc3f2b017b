package io.serval.server.security;

import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServiceRequestContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The management listener: one more port of the same Armeria server, bound to {@code management.address}
 * (loopback by default). A request came through it when it was accepted on its port; with {@code
 * management.port: 0} that port is learnt from the started server: the one bound to the management address
 * that is none of the configured ports (the configuration rejects the one case where this is ambiguous: a
 * wildcard management address with free ports elsewhere too).
 */
final class ManagementListener {
  private final InetAddress address;
  private final int configuredPort;
  private final Set<Integer> otherConfiguredPorts;
  private volatile int port;

  ManagementListener(InetAddress address, int configuredPort, List<Integer> otherConfiguredPorts) {
    this.address = address;
    this.configuredPort = configuredPort;
    this.otherConfiguredPorts = Set.copyOf(otherConfiguredPorts);
    this.port = configuredPort;
  }

  /** The address to bind: {@code management.address} and {@code management.port} (0 for a free port). */
  InetSocketAddress bindAddress() {
    return new InetSocketAddress(address, configuredPort);
  }

  /** Whether {@code ctx}'s request came in through the management listener. */
  boolean accepted(ServiceRequestContext ctx) {
    return ctx.localAddress().getPort() == port(ctx.config().server());
  }

  /** The port the management listener is bound to, once {@code server} has started. */
  int port(Server server) {
    int known = port;
    if (known != 0) {
      return known;
    }
    List<Integer> candidates = server.activePorts().keySet().stream()
        .filter(bound -> sameAddress(bound.getAddress()) && !otherConfiguredPorts.contains(bound.getPort()))
        .map(InetSocketAddress::getPort)
        .distinct()
        .collect(Collectors.toList());
    if (candidates.size() != 1) {
      throw new IllegalStateException("cannot tell the management port among " + server.activePorts().keySet());
    }
    port = candidates.get(0);
    return port;
  }

  /** Whether a bound address is the management address; a wildcard is any wildcard (IPv4 or IPv6). */
  private boolean sameAddress(InetAddress bound) {
    return address.isAnyLocalAddress() ? bound.isAnyLocalAddress() : bound.equals(address);
  }
}
