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
 * long as a slow DNS server takes. It also holds, per durable push spool, the highest record this node
 * has delivered to its target ({@link #deliveredPush()}), so a resent record is not delivered twice.
 * Thread-safe; close it when the node stops.
 */
public final class Outbound implements AutoCloseable {

    private final Transport transport;
    private final DnsAddressResolverGroup resolver;
    private final DeliveredMarks deliveredPush;

    public Outbound(Transport transport) {
        this(transport, null);
    }

    /**
     * @param pushStateDir where the push egresses' delivered marks are kept across restarts, or {@code null}
     *                     for memory only; opened here, so call it on the thread that starts the node
     */
    public Outbound(Transport transport, java.nio.file.Path pushStateDir) {
        this.transport = transport;
        this.deliveredPush = pushStateDir == null ? DeliveredMarks.inMemory() : DeliveredMarks.in(pushStateDir);
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

    /** Durable push egress: per spool identity (hex), the highest sequence this node delivered to the target. */
    public DeliveredMarks deliveredPush() {
        return deliveredPush;
    }

    @Override
    public void close() {
        resolver.close();
    }
}
