package io.sdt.server.admin;

import io.sdt.core.LinkView;
import io.sdt.core.SdtClient;
import io.sdt.core.SdtServer;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.policy.RecentAudit;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.vpn.VpnCounters;
import io.sdt.core.tunnel.vpn.VpnPeerView;
import io.sdt.core.tunnel.router.RouterCounters;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What the admin endpoint reads of one node: its health, its counters and its tunnels. All of it is
 * thread-safe in the core; the endpoint only reads.
 *
 * @param role     {@code server} or {@code client}
 * @param healthy  a client: a link is up; a server: its link listener is open
 * @param degraded a client with several links: which are down while others are up, else {@code null}
 * @param linksWanted a client: the links it keeps (servers x {@code --links}); a server: 0
 * @param links    the node's links now: a client's every link, up or down; a server's links up
 * @param tunnels  the node's configured tunnels (fixed for the node's life; empty on a server)
 * @param vpn      the VPN's counters, or {@code null} without {@code --vpn}
 * @param vpnPeers the VPN peers now: a server's clients, a client itself once it has its addresses
 * @param audit    the node's most recent channel-open decisions
 */
public record NodeView(String role, BooleanSupplier healthy, Supplier<String> degraded, int linksWanted,
                       Supplier<List<LinkView>> links, NodeStats stats, RouterCounters router, List<Tunnel> tunnels,
                       VpnCounters vpn, Supplier<List<VpnPeerView>> vpnPeers, RecentAudit audit) {

    public NodeView {
        tunnels = List.copyOf(tunnels);
    }

    public static NodeView of(SdtServer server) {
        return new NodeView("server", server::isListening, () -> null, 0, server::linkViews, server.stats(),
                server.routerStats(), List.of(), server.config().vpn() == null ? null : server.vpnCounters(),
                server::vpnPeers, server.recentAudit());
    }

    public static NodeView of(SdtClient client) {
        return new NodeView("client", client::isUp, client::degraded,
                client.config().servers().size() * client.config().links(), client::linkViews, client.stats(),
                client.routerStats(), client.tunnels(), client.config().vpn() == null ? null : client.vpnCounters(),
                client::vpnPeers, client.recentAudit());
    }
}
