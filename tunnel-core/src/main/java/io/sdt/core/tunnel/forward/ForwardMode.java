package io.sdt.core.tunnel.forward;

import io.netty.channel.ChannelFuture;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.transport.Outbound;
import io.sdt.core.tunnel.IngressContext;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelMode;
import io.sdt.core.tunnel.datagram.UdpEgress;
import io.sdt.core.tunnel.datagram.UdpIngress;
import io.sdt.core.tunnel.stream.OpenAnswer;
import io.sdt.core.tunnel.stream.StreamChannel;
import io.sdt.core.tunnel.stream.TcpListener;

/**
 * Forward mode, {@code -L} and {@code -R} with a target: TCP connections become stream channels, one each;
 * UDP source tuples become datagram channels, one each, with replies back to the source. The egress
 * opens a socket of its own per channel towards the one configured target. Direct mode ({@code peer=})
 * is this mode with a filter at the listener ({@code Tunnel.admits}) and, for a link that carries a single
 * direct UDP tunnel, datagrams without channel ids (SOLE_DATAGRAM).
 */
public final class ForwardMode implements TunnelMode {

    @Override
    public ChannelFuture listen(Tunnel tunnel, IngressContext in) {
        if (tunnel.spec().udp()) {
            return UdpIngress.bind(tunnel, in, false);
        }
        HostPort target = tunnel.spec().target();
        return TcpListener.bind(tunnel, in,
                (link, socket) -> StreamChannel.ingress(link, socket, tunnel, target, OpenAnswer.closing(socket)));
    }

    @Override
    public void egress(Link link, Frame.Open open, HostPort target, Tunnel tunnel, Outbound outbound) {
        if (open.udp()) {
            UdpEgress.open(link, open, target, outbound, tunnel);
        } else {
            // -L: the ingress asked for it in the OPEN; -R: this node configured the tunnel
            StreamChannel.egress(link, open, target, outbound, tunnel);
        }
    }
}
