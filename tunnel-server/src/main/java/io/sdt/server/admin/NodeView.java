package io.sdt.server.admin;

import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.vpn.VpnCounters;
import io.sdt.core.tunnel.router.RouterCounters;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What the admin endpoint reads of one node: its health, its counters and its tunnels. All of it is
 * thread-safe in the core; the endpoint only reads.
 *
 * @param healthy  a client: a link is up; a server: its link listener is open
 * @param degraded a client with several links: which are down while others are up, else {@code null}
 * @param linksWanted a client: the links it keeps (servers x {@code --links}); a server: 0
 * @param tunnels  the node's configured tunnels (fixed for the node's life; empty on a server)
 */
public record NodeView(BooleanSupplier healthy, Supplier<String> degraded, int linksWanted, NodeStats stats,
                       RouterCounters router, List<Tunnel> tunnels, VpnCounters vpn) {

    public NodeView {
        tunnels = List.copyOf(tunnels);
    }

    public static NodeView of(SdtServer server) {
        return new NodeView(server::isListening, () -> null, 0, server.stats(), server.routerStats(), List.of(),
                server.config().vpn() == null ? null : server.vpnCounters());
    }

    public static NodeView of(SdtClient client) {
        return new NodeView(client::isUp, client::degraded,
                client.config().servers().size() * client.config().links(), client.stats(), client.routerStats(), client.tunnels(),
                client.config().vpn() == null ? null : client.vpnCounters());
    }
}
