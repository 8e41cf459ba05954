package io.sdt.server.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.vpn.VpnCounters;
import io.sdt.core.tunnel.router.RouterCounters;

import java.util.function.ToDoubleFunction;

/**
 * Binds a node's counters ({@link NodeStats}, {@link RouterCounters}, each {@link Tunnel}) as function
 * counters and gauges: a scrape reads them, the data path does not change (the channel-open histogram is
 * the {@link OpenLatencyCollector}'s). Tags are low-cardinality
 * (docs/ARCHITECTURE.md, "Metrics"): {@code tunnel} (the spec label), {@code mode} and {@code direction}, never a peer or channel.
 */
final class NodeMeterBinder implements MeterBinder {

    private final NodeView node;

    NodeMeterBinder(NodeView node) {
        this.node = node;
    }

    @Override
    public void bindTo(MeterRegistry r) {
        NodeStats s = node.stats();
        gauge(r, "sdt.links.up", "Authenticated links now up", s, NodeStats::linksUp, Tags.empty(), null);
        if (node.linksWanted() > 0) {
            int wanted = node.linksWanted();
            gauge(r, "sdt.links.wanted", "Links this client keeps (servers x --links); sdt_links_up below it: some are down",
                    s, x -> wanted, Tags.empty(), null);
        }
        counter(r, "sdt.links.established", "Links that completed authentication", s, NodeStats::linksEstablished);
        counter(r, "sdt.auth.failures", "Links that failed authentication", s, NodeStats::authFailures);
        counter(r, "sdt.handshake.failures", "Links that failed the TLS handshake", s, NodeStats::handshakeFailures);
        counter(r, "sdt.handshake.dropped", "Connections refused or dropped while waiting to authenticate (per-source limit,"
                + " fair eviction when the waiting room is full)", s, NodeStats::handshakesDropped);
        counter(r, "sdt.link.dials", "Dials of the server by this client, the first and every retry", s, NodeStats::linkDials);
        counter(r, "sdt.protocol.errors", "Links closed for a protocol violation", s, NodeStats::protocolErrors);
        gauge(r, "sdt.channels.open", "Channels open now", s, NodeStats::channelsOpen, Tags.empty(), null);
        counter(r, "sdt.channels.opened", "Channels opened", s, NodeStats::channelsOpened);
        counter(r, "sdt.channel.opens.denied", "Channel opens denied by policy", s, NodeStats::opensDenied);
        counter(r, "sdt.channel.opens.failed", "Channel opens that failed (target unreachable)", s,
                NodeStats::opensFailed);
        String payload = "Payload bytes of streams and datagrams sent to or received from the link (no framing)";
        counter(r, "sdt.link.payload", payload, s, NodeStats::bytesToLink, Tags.of("direction", "to_link"),
                BaseUnits.BYTES);
        counter(r, "sdt.link.payload", payload, s, NodeStats::bytesFromLink, Tags.of("direction", "from_link"),
                BaseUnits.BYTES);
        String datagrams = "Datagrams sent to or received from the link";
        counter(r, "sdt.link.datagrams", datagrams, s, NodeStats::datagramsToLink, Tags.of("direction", "to_link"),
                null);
        counter(r, "sdt.link.datagrams", datagrams, s, NodeStats::datagramsFromLink,
                Tags.of("direction", "from_link"), null);
        counter(r, "sdt.datagrams.dropped", "Datagrams this node dropped", s, NodeStats::datagramsDropped);
        counter(r, "sdt.push.overflows", "Push records dropped because the egress spool was full", s,
                NodeStats::pushOverflows);
        gauge(r, "sdt.push.spool", "Bytes held now in TCP push egress spools (target away or write not confirmed)",
                s, NodeStats::pushSpoolBytes, Tags.empty(), BaseUnits.BYTES);
        gauge(r, "sdt.push.spool.records", "Records held now in TCP push egress spools", s,
                NodeStats::pushSpoolRecords, Tags.empty(), null);
        gauge(r, "sdt.window", "Receive windows granted now, summed over open channels (within --buffer-budget)", s,
                NodeStats::windowBytes, Tags.empty(), BaseUnits.BYTES);
        counter(r, "sdt.window.growths", "Times a channel's receive window doubled", s, NodeStats::windowGrowths);
        counter(r, "sdt.window.stalls", "Times a channel had bytes to send and no credit: window-limited", s,
                NodeStats::windowStalls);
        gauge(r, "sdt.link.queue", "Bytes of channel frames waiting in the links' fair schedulers", s,
                NodeStats::linkQueuedBytes, Tags.empty(), BaseUnits.BYTES);
        counter(r, "sdt.sole.datagrams", "Datagrams sent as SOLE_DATAGRAM", s, NodeStats::soleDatagrams);
        counter(r, "sdt.gso.sends", "UDP GSO sends", s, NodeStats::gsoSends);
        counter(r, "sdt.gso.segments", "Datagrams that left in UDP GSO sends", s, NodeStats::gsoSegments);
        gauge(r, "sdt.buffered", "Bytes held for channels (received and not yet written, or read and not yet sent)",
                s, NodeStats::bufferedBytes, Tags.empty(), BaseUnits.BYTES);

        VpnCounters vpn = node.vpn();
        if (vpn != null) { // only where --vpn is on
            gauge(r, "sdt.vpn.peers", "VPN peers connected now (clients on a server, the server on a client)", vpn,
                    VpnCounters::peers, Tags.empty(), null);
            String packets = "IP packets sent to or received from the link by the VPN";
            counter(r, "sdt.vpn.packets", packets, vpn, VpnCounters::packetsToLink, Tags.of("direction", "to_link"), null);
            counter(r, "sdt.vpn.packets", packets, vpn, VpnCounters::packetsFromLink, Tags.of("direction", "from_link"),
                    null);
            String bytes = "Bytes of IP packets sent to or received from the link by the VPN";
            counter(r, "sdt.vpn.bytes", bytes, vpn, VpnCounters::bytesToLink, Tags.of("direction", "to_link"),
                    BaseUnits.BYTES);
            counter(r, "sdt.vpn.bytes", bytes, vpn, VpnCounters::bytesFromLink, Tags.of("direction", "from_link"),
                    BaseUnits.BYTES);
            String sup = "TCP super-segments (up to 64 KiB, cut by the receiving device) sent to or received from the link";
            counter(r, "sdt.vpn.super.segments", sup, vpn, VpnCounters::superSegmentsToLink,
                    Tags.of("direction", "to_link"), null);
            counter(r, "sdt.vpn.super.segments", sup, vpn, VpnCounters::superSegmentsFromLink,
                    Tags.of("direction", "from_link"), null);
            counter(r, "sdt.vpn.cut", "Super-segments cut into packets in software for a peer that takes no offloads",
                    vpn, VpnCounters::superSegmentsCut, Tags.empty(), null);
            for (VpnCounters.Drop d : VpnCounters.Drop.values()) {
                counter(r, "sdt.vpn.drops", "IP packets the VPN dropped, by reason", vpn, v -> v.drops(d),
                        Tags.of("reason", d.tag()), null);
            }
        }

        RouterCounters rc = node.router();
        counter(r, "sdt.router.malformed.requests", "SOCKS5/HTTP CONNECT requests that were malformed", rc,
                RouterCounters::malformedRequests);
        counter(r, "sdt.router.auth.failures", "Proxy customers that failed authentication", rc,
                RouterCounters::authFailures);
        counter(r, "sdt.router.unsupported.commands", "Proxy requests with an unsupported command", rc,
                RouterCounters::unsupportedCommands);
        counter(r, "sdt.router.handshake.timeouts", "Proxy handshakes that timed out", rc,
                RouterCounters::handshakeTimeouts);
        counter(r, "sdt.router.fragments.dropped", "Fragmented SOCKS5 UDP datagrams dropped", rc,
                RouterCounters::fragmentsDropped);
        counter(r, "sdt.router.strangers.dropped", "SOCKS5 UDP datagrams from other than the associated client", rc,
                RouterCounters::strangersDropped);
        counter(r, "sdt.router.datagrams.dropped", "SOCKS5 UDP datagrams dropped", rc,
                RouterCounters::datagramsDropped);

        for (Tunnel t : node.tunnels()) {
            Tags tags = Tags.of("tunnel", t.spec().label(), "mode", TunnelMode.of(t.spec()));
            counter(r, "sdt.tunnel.channels.opened", "Channels (or UDP tuples) the tunnel opened", t,
                    Tunnel::channelsOpened, tags, null);
            counter(r, "sdt.tunnel.channels.rejected", "Connections refused because max= was reached", t,
                    Tunnel::channelsRejected, tags, null);
            gauge(r, "sdt.tunnel.channels.active", "Channels of the tunnel open now", t, Tunnel::activeChannels,
                    tags, null);
            gauge(r, "sdt.tunnel.window", "Receive windows of the tunnel's channels on this node now (its ingress)",
                    t, Tunnel::windowBytes, tags, BaseUnits.BYTES);
            if (t.spec().udp() || t.spec().dynamic()) { // datagram meters only where datagrams flow
                String dg = "Datagrams accepted at the ingress (in) or sent back to their source (out)";
                counter(r, "sdt.tunnel.datagrams", dg, t, Tunnel::datagramsIn, tags.and("direction", "in"), null);
                counter(r, "sdt.tunnel.datagrams", dg, t, Tunnel::datagramsOut, tags.and("direction", "out"), null);
                counter(r, "sdt.tunnel.datagrams.dropped", "Datagrams dropped at the tunnel's ingress", t,
                        Tunnel::datagramsDropped, tags, null);
                counter(r, "sdt.tunnel.tuples.evicted", "UDP source tuples evicted because the table was full", t,
                        Tunnel::tuplesEvicted, tags, null);
                counter(r, "sdt.tunnel.tuples.expired", "UDP source tuples expired after idle=", t,
                        Tunnel::tuplesExpired, tags, null);
                gauge(r, "sdt.tunnel.tuples", "UDP source tuples in the table now", t, Tunnel::tupleCount, tags, null);
            }
            counter(r, "sdt.tunnel.strangers.dropped", "Connections and datagrams from other than a direct peer", t,
                    Tunnel::strangersDropped, tags, null);
            String tp = "Payload bytes of the tunnel's channels this node sent to the link or received from it";
            counter(r, "sdt.tunnel.payload", tp, t, Tunnel::bytesToLink, tags.and("direction", "to_link"),
                    BaseUnits.BYTES);
            counter(r, "sdt.tunnel.payload", tp, t, Tunnel::bytesFromLink, tags.and("direction", "from_link"),
                    BaseUnits.BYTES);
        }
    }

    private static <T> void counter(MeterRegistry r, String name, String help, T obj, ToDoubleFunction<T> f) {
        counter(r, name, help, obj, f, Tags.empty(), null);
    }

    private static <T> void counter(MeterRegistry r, String name, String help, T obj, ToDoubleFunction<T> f,
                                    Tags tags, String unit) {
        FunctionCounter.builder(name, obj, f).description(help).tags(tags).baseUnit(unit).register(r);
    }

    private static <T> void gauge(MeterRegistry r, String name, String help, T obj, ToDoubleFunction<T> f, Tags tags,
                                  String unit) {
        Gauge.builder(name, obj, f).description(help).tags(tags).baseUnit(unit).strongReference(true).register(r);
    }
}
