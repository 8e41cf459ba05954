package io.sdt.core.tunnel.router;

import io.netty.channel.ChannelFuture;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.transport.Outbound;
import io.sdt.core.tunnel.IngressContext;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelMode;
import io.sdt.core.tunnel.router.proxy.RouterFrontend;
import io.sdt.core.tunnel.stream.TcpListener;

/**
 * Router mode ({@code -D}, and {@code -R PORT} on the server): every accepted socket gets a
 * {@link RouterFrontend} whose SOCKS5 or HTTP CONNECT request becomes a channel of the link to the target
 * the customer named ({@link LinkProxy}); the far node checks each target against its policy and serves
 * it as it serves a forward channel: a stream or a datagram socket towards that target, by the forward
 * mode's own egress, which the registry hands in. A customer that never gets as far as a request (bad
 * greeting, timeout, refused credentials) gives its tunnel slot back when its socket closes.
 */
public final class RouterMode implements TunnelMode {

    private final TunnelMode forward;

    /** @param forward the forward mode, whose egress serves a router's channels */
    public RouterMode(TunnelMode forward) {
        this.forward = forward;
    }

    @Override
    public ChannelFuture listen(Tunnel tunnel, IngressContext in) {
        return TcpListener.bind(tunnel, in, (link, child) -> {
            LinkProxy backend = new LinkProxy(link, tunnel);
            child.closeFuture().addListener(f -> backend.socketClosed());
            child.pipeline().addLast(new RouterFrontend(in.router(), backend, in.routerStats()));
        });
    }

    @Override
    public void egress(Link link, Frame.Open open, HostPort target, Tunnel tunnel, Outbound outbound) {
        forward.egress(link, open, target, tunnel, outbound);
    }
}
