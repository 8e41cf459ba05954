package io.sdt.core.tunnel.stream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.sdt.core.link.Link;
import io.sdt.core.tunnel.IngressContext;
import io.sdt.core.tunnel.Tunnel;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The ingress listener of a TCP tunnel, on whichever node the tunnel listens. Each accepted socket
 * is registered on the event loop of the link it will travel over (so a channel's socket and its
 * link share one thread) and handed to {@link StreamChannel#ingress}. A connection that arrives
 * while there is no link, or beyond the tunnel's {@code max=}, is closed at once.
 */
public final class TcpListener {

    private static final Logger log = LogManager.getLogger(TcpListener.class);

    private TcpListener() {
    }

    /**
     * Binds the listener of {@code tunnel} at its spec's bind address. Accepted sockets, admitted and
     * counted against the tunnel's {@code max=} and registered on their link's loop, are handed to
     * {@code start}, which then owns the socket and the tunnel slot.
     */
    public static ChannelFuture bind(Tunnel tunnel, IngressContext in, BiConsumer<Link, Channel> start) {
        ServerBootstrap b = new ServerBootstrap().group(in.group()).channel(in.transport().serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .handler(new Acceptor(tunnel, in.links(), start))
                .childHandler(new ChannelInboundHandlerAdapter());
        return b.bind(tunnel.spec().bind().toSocketAddress());
    }

    /** Takes accepted sockets before ServerBootstrap's own acceptor would register them. */
    private static final class Acceptor extends ChannelInboundHandlerAdapter {
        private final Tunnel tunnel;
        private final Supplier<Link> links;
        private final BiConsumer<Link, Channel> start;

        Acceptor(Tunnel tunnel, Supplier<Link> links, BiConsumer<Link, Channel> start) {
            this.tunnel = tunnel;
            this.links = links;
            this.start = start;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel child = (Channel) msg;
            Link link = links.get();
            if (link == null || link.isClosed()) {
                log.info("{}: no link is up; closing the connection from {}", tunnel, child.remoteAddress());
                child.unsafe().closeForcibly();
                return;
            }
            if (!tunnel.admits((InetSocketAddress) child.remoteAddress())) {
                tunnel.strangerDropped();
                log.debug("{}: connection from {} is not the peer; dropped", tunnel, child.remoteAddress());
                child.unsafe().closeForcibly();
                return;
            }
            if (!tunnel.tryAcquire()) {
                log.info("{}: max={} channels are open; closing the connection from {}", tunnel,
                        tunnel.spec().maxChannels(), child.remoteAddress());
                child.unsafe().closeForcibly();
                return;
            }
            LocalSockets.configure(child, link.settings());
            child.pipeline().addLast(EarlyInput.NAME, new EarlyInput());
            link.eventLoop().register(child).addListener(f -> {
                if (f.isSuccess()) {
                    start.accept(link, child);
                    if (child.pipeline().get(EarlyInput.NAME) != null) {
                        child.pipeline().remove(EarlyInput.NAME); // what came before the handlers goes to them now
                    }
                } else {
                    tunnel.release();
                    child.unsafe().closeForcibly();
                }
            });
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("{}: accept failed: {}", tunnel, cause.getMessage());
        }
    }
}
