package io.sdt.core.tunnel;

import io.netty.channel.ChannelFuture;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.transport.Outbound;

/**
 * One {@link Mode}'s implementation: how its ingress listens and how its egress serves a channel the far
 * node opened. The two halves run on either node, so local and remote tunnels of a mode are one code
 * path. A node finds the implementation of a mode in one registry; each lives in its mode's package.
 */
public interface TunnelMode {

    /**
     * Binds this node's listener of {@code tunnel} (its ingress). Customers it accepts become channels of
     * the link {@code ingress.links()} gives at that moment.
     *
     * @return completes when the listener is bound (or failed to bind)
     */
    ChannelFuture listen(Tunnel tunnel, IngressContext ingress);

    /**
     * Serves the channel the far node opened with {@code open} (this node is its egress): connects
     * towards {@code target}, which the node's policy has allowed, and answers OPEN_OK or OPEN_FAIL.
     * Runs on the link's event loop.
     *
     * @param tunnel this node's own tunnel (a client serving its {@code -R}), or {@code null} when the far
     *               node configured it (a server serving a client's {@code -L})
     */
    void egress(Link link, Frame.Open open, HostPort target, Tunnel tunnel, Outbound outbound);
}
