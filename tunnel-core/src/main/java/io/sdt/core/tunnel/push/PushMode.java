package io.sdt.core.tunnel.push;

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

/**
 * Push mode ({@code ,push}): one-way delivery of everything that arrives at the listener, from any
 * number of sources, through one channel to one target; nothing comes back. TCP carries whole
 * newline-terminated records ({@link PushIngress}) into a spool at the egress that survives the target's
 * absence ({@link PushEgress}); UDP carries every datagram through the datagram ingress in its one-way
 * form, to one egress socket.
 */
public final class PushMode implements TunnelMode {

    @Override
    public ChannelFuture listen(Tunnel tunnel, IngressContext in) {
        return tunnel.spec().udp() ? UdpIngress.bind(tunnel, in, true) : PushIngress.bind(tunnel, in);
    }

    /**
     * The TCP spool's size is this node's {@code spool=} when it configured the tunnel, else the one the
     * ingress announced in OPEN's window field (a push egress sends nothing back, so needs no window).
     */
    @Override
    public void egress(Link link, Frame.Open open, HostPort target, Tunnel tunnel, Outbound outbound) {
        if (open.udp()) {
            UdpEgress.open(link, open, target, outbound, tunnel);
        } else {
            PushEgress.open(link, open, target, outbound, tunnel != null ? tunnel.spec().spoolMax() : open.window());
        }
    }
}
