package io.sdt.core.tunnel.router;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.router.proxy.ConnectResult;
import io.sdt.core.tunnel.router.proxy.ProxyBackend;
import io.sdt.core.tunnel.router.proxy.UdpAssociation;
import io.sdt.core.tunnel.stream.OpenAnswer;
import io.sdt.core.tunnel.stream.StreamChannel;

/**
 * The {@link ProxyBackend} of one customer socket of a dynamic tunnel: a CONNECT becomes a stream
 * channel of the link (OPEN carries the target) whose answer goes back as the protocol's reply, a UDP
 * ASSOCIATE becomes a set of datagram flows. An optimistic listener ({@code -D PORT,optimistic}, or the server's
 * reverse dynamic one whose BIND said so) tells its customer success at once and lets the stream carry what it
 * sends next with the OPEN, where the link allows early data.
 * Holds the customer's tunnel slot until it passes it on (to the stream or the association) or the
 * socket closes first. Confined to the link's event loop.
 */
final class LinkProxy implements ProxyBackend {

    private final Link link;
    private final Tunnel tunnel;
    /** The slot has been passed on, or given back. */
    private boolean slotPassed;

    LinkProxy(Link link, Tunnel tunnel) {
        this.link = link;
        this.tunnel = tunnel;
    }

    @Override
    public void connect(Channel socket, HostPort target, ConnectResult result) {
        slotPassed = true;
        if (tunnel.spec().optimistic() && link.earlyData()) {
            // success now; the customer's first bytes ride with the OPEN, and a refusal becomes a reset
            ByteBuf ahead = result.succeeded();
            StreamChannel.ingress(link, socket, tunnel, target, OpenAnswer.optimistic(socket, ahead));
            return;
        }
        StreamChannel.ingress(link, socket, tunnel, target, new OpenAnswer() {
            @Override
            public ByteBuf accepted() {
                return result.succeeded();
            }

            @Override
            public void refused(ErrorCode code, String message) {
                result.failed(code, message);
            }
        });
    }

    @Override
    public UdpAssociation.Sink associate(UdpAssociation association) {
        slotPassed = true;
        return new AssociationFlows(link, tunnel, association);
    }

    void socketClosed() {
        if (!slotPassed) {
            slotPassed = true;
            tunnel.release();
        }
    }
}
