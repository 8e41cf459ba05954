package io.sdt.core.tunnel.dynamic;

import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.router.RouterFrontend;
import io.sdt.core.tunnel.router.RouterSettings;
import io.sdt.core.tunnel.router.RouterStats;
import io.sdt.core.tunnel.tcp.TcpListener;

import java.util.function.Supplier;

/**
 * The listener of a dynamic tunnel ({@code -D}, or {@code -R PORT} on the server): every accepted
 * socket gets a {@link RouterFrontend} whose requests become channels of the link, to the target
 * the customer named; the far node checks each target against its policy. A customer that never
 * gets as far as a request (bad greeting, timeout, refused credentials) gives its tunnel slot back
 * when its socket closes.
 */
public final class DynamicListener {

    private DynamicListener() {
    }

    public static ChannelFuture bind(EventLoopGroup group, Transport transport, HostPort bind, Tunnel tunnel,
                                     int tunnelId, Supplier<Link> links, RouterSettings settings, RouterStats stats) {
        return TcpListener.bind(group, transport, bind, tunnel, links, (link, child) -> {
            LinkProxy backend = new LinkProxy(link, tunnel, tunnelId);
            child.closeFuture().addListener(f -> backend.socketClosed());
            child.pipeline().addLast(new RouterFrontend(settings, backend, stats));
        });
    }
}
