package io.sdt.core.tunnel.dynamic;

import io.netty.channel.Channel;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.router.ConnectResult;
import io.sdt.core.tunnel.router.ProxyBackend;
import io.sdt.core.tunnel.router.UdpAssociation;
import io.sdt.core.tunnel.tcp.StreamChannel;

/**
 * The {@link ProxyBackend} of one customer socket of a dynamic tunnel: a CONNECT becomes a stream
 * channel of the link (OPEN carries the target), a UDP ASSOCIATE becomes a set of datagram flows.
 * Holds the customer's tunnel slot until it passes it on (to the stream or the association) or the
 * socket closes first. Confined to the link's event loop.
 */
final class LinkProxy implements ProxyBackend {

    private final Link link;
    private final Tunnel tunnel;
    private final int tunnelId;
    /** The slot has been passed on, or given back. */
    private boolean slotPassed;

    LinkProxy(Link link, Tunnel tunnel, int tunnelId) {
        this.link = link;
        this.tunnel = tunnel;
        this.tunnelId = tunnelId;
    }

    @Override
    public void connect(Channel socket, HostPort target, ConnectResult result) {
        slotPassed = true;
        StreamChannel.ingress(link, socket, tunnel, tunnelId, target, result);
    }

    @Override
    public UdpAssociation.Sink associate(UdpAssociation association) {
        slotPassed = true;
        return new AssociationFlows(link, tunnel, tunnelId, association);
    }

    void socketClosed() {
        if (!slotPassed) {
            slotPassed = true;
            tunnel.release();
        }
    }
}
