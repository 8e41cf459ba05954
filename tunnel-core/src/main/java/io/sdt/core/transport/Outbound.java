package io.sdt.core.transport;

import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;

import java.net.InetSocketAddress;

/**
 * How a node reaches targets: its {@link Transport} and one non-blocking DNS resolver (Netty's,
 * reading /etc/resolv.conf and /etc/hosts), shared by every egress of the node. A target named by
 * host name (router mode, or a {@code -L} target that is a name) is resolved on the exit node
 * without blocking its event loop; JDK's resolver would stall every channel of that loop for as
 * long as a slow DNS server takes. Thread-safe; close it when the node stops.
 */
public final class Outbound implements AutoCloseable {

    private final Transport transport;
    private final DnsAddressResolverGroup resolver;

    public Outbound(Transport transport) {
        this.transport = transport;
        this.resolver = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(transport.datagramChannel())
                .socketChannelType(transport.socketChannel()));
    }

    public Transport transport() {
        return transport;
    }

    /** For {@code Bootstrap.resolver(...)}. */
    public AddressResolverGroup<InetSocketAddress> resolver() {
        return resolver;
    }

    @Override
    public void close() {
        resolver.close();
    }
}
