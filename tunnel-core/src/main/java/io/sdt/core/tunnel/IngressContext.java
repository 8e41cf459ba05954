package io.sdt.core.tunnel;

import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.sdt.core.link.Link;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.router.proxy.RouterSettings;
import io.sdt.core.tunnel.router.proxy.RouterStats;

import java.util.function.Supplier;

/**
 * What a listener may need from the node it runs on, handed to {@link TunnelMode#listen}.
 *
 * @param group       the node's event loops: TCP listeners accept here, and each accepted socket moves
 *                    to its link's loop
 * @param loop        the loop of every link the listener will use; datagram and push listeners live on it
 * @param transport   the node's transport
 * @param links       the link to carry a new channel, or {@code null} while none is up
 * @param ticker      the clock of UDP tuple expiry (tests inject a fake one)
 * @param sole        the link carries this tunnel only and it admits one source tuple (direct UDP with
 *                    an exact peer): its one channel sends datagrams without channel ids
 * @param router      router mode's front-end settings (credentials, handshake timeout)
 * @param routerStats router mode's front-end counters
 */
public record IngressContext(EventLoopGroup group, EventLoop loop, Transport transport, Supplier<Link> links,
                             Ticker ticker, boolean sole, RouterSettings router, RouterStats routerStats,
                             io.sdt.core.metrics.NodeStats stats) {

    /** The same context for a listener whose link set is or is not a sole direct tunnel. */
    public IngressContext withSole(boolean soleTunnel) {
        return new IngressContext(group, loop, transport, links, ticker, soleTunnel, router, routerStats, stats);
    }

    /** The same context with other router settings (a reload changed the credentials). */
    public IngressContext withRouter(RouterSettings settings) {
        return new IngressContext(group, loop, transport, links, ticker, sole, settings, routerStats, stats);
    }
}
