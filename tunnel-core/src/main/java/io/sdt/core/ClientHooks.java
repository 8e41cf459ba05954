package io.sdt.core;

import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkHooks;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.policy.AuditLog;
import io.sdt.core.policy.RecentAudit;
import io.sdt.core.policy.Policy;
import io.sdt.core.policy.PolicyRule;
import io.sdt.core.transport.Outbound;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.vpn.VpnClient;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What a client does with one server's requests: asks for its remote listeners when a link to it comes up
 * and no other link to it holds them,
 * and performs the egress of the channels the server opens for them, towards the targets the client
 * itself configured (never an address the server names), or, for a reverse dynamic tunnel, towards
 * the target the customer named if this client's own policy allows it. Called on the link's event loop.
 */
final class ClientHooks implements LinkHooks {

    private static final Logger log = LogManager.getLogger(ClientHooks.class);

    /**
     * What the hooks need of their client.
     *
     * @param exits    the policy for channels that exit here (reverse dynamic), as now in force
     * @param draining true once the client drains: ask for nothing, refuse new channels
     * @param vpn      the client's VPN, or {@code null} without {@code --vpn}
     * @param several  the client has more than one server (logs then say which one)
     * @param audit    the client's recent audit events (its reverse tunnels' channel opens)
     */
    record Context(NodeStats stats, Outbound outbound, ClientTunnels tunnels, Supplier<Policy> exits,
                   BooleanSupplier draining, VpnClient vpn, boolean several, RecentAudit audit) {
    }

    private final Context node;
    private final LinkSet.Server server;
    /** BINDs this server failed to listen for in a row, per tunnel id (link loop only). */
    private final java.util.Map<Integer, Integer> bindAttempts = new java.util.HashMap<>();

    ClientHooks(Context node, LinkSet.Server server) {
        this.node = node;
        this.server = server;
    }

    @Override
    public void onUp(Link up) {
        if (!node.draining().getAsBoolean()) {
            if (server.claimBinder(up)) {
                node.tunnels().bindAll(up);
            }
            if (node.vpn() != null) {
                node.vpn().linkUp(up);
            }
        }
    }

    @Override
    public void onOpen(Link up, Frame.Open open) {
        if (node.draining().getAsBoolean()) {
            up.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.REFUSED, "client is shutting down"));
            return;
        }
        Tunnel t = node.tunnels().get(open.tunnelId());
        if (t == null || t.spec().direction() != TunnelSpec.Direction.REMOTE || !t.spec().fits(open)) {
            node.stats().openDenied();
            log.warn("{}: the server opened channel {} for unknown remote tunnel {}; refused", up, open.channel(),
                    open.tunnelId());
            up.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.UNKNOWN_TUNNEL,
                    "no remote tunnel " + open.tunnelId() + " on this client"));
            return;
        }
        TunnelSpec spec = t.spec();
        if (spec.dynamic()) {
            openDynamic(up, open, t);
            return;
        }
        AuditLog.configuredOpen(node.audit(), up, open, spec.target());
        TunnelModes.of(spec.mode()).egress(up, open, spec.target(), t, node.outbound());
    }

    /**
     * A channel of a reverse dynamic tunnel: its target is whatever the server's customer asked for, so
     * this client's own --allow-target policy decides, as the server's does for -D.
     */
    private void openDynamic(Link up, Frame.Open open, Tunnel t) {
        TunnelSpec spec = t.spec();
        Optional<PolicyRule> rule = node.exits().get().match(open.target());
        AuditLog.channelOpen(node.audit(), up, open, open.target(), rule);
        if (rule.isEmpty()) {
            node.stats().openDenied();
            log.warn("{}: channel {} to {} denied: no --allow-target rule matches", up, open.channel(), open.target());
            up.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.DENIED,
                    "target " + open.target() + " is not allowed by the client's policy (--allow-target)"));
            return;
        }
        TunnelModes.of(spec.mode()).egress(up, open, open.target(), t, node.outbound());
    }

    @Override
    public void onBindOk(Link up, Frame.BindOk ok) {
        Tunnel t = node.tunnels().get(ok.tunnelId());
        if (t == null && node.tunnels().issued(ok.tunnelId())) {
            log.debug("{}: BIND_OK for removed tunnel #{}", up, ok.tunnelId()); // UNBIND is on its way
            return;
        }
        if (t == null) {
            up.protocolViolation("BIND_OK for unknown tunnel " + ok.tunnelId());
            return;
        }
        bindAttempts.remove(t.id());
        log.info("tunnel {} listening on {}{}", t.spec().label(), ok.bound(),
                node.several() ? " (server " + server.endpoint() + ")" : "");
        t.boundOn(server.endpoint().toString(), ok.bound().toSocketAddress());
    }

    @Override
    public void onBindFail(Link up, Frame.BindFail fail) {
        Tunnel t = node.tunnels().get(fail.tunnelId());
        if (t == null && node.tunnels().issued(fail.tunnelId())) {
            return;
        }
        if (t == null) {
            up.protocolViolation("BIND_FAIL for unknown tunnel " + fail.tunnelId());
            return;
        }
        t.failed(fail.message());
        if (fail.code() != ErrorCode.GENERAL || node.draining().getAsBoolean()) {
            log.error("tunnel {}: the server {} refused the remote listener: {}", t.spec().label(), server.endpoint(),
                    fail.message());
            return;
        }
        // the server could not listen (the port is still held, e.g. by this client's previous link, which the
        // server has not yet seen die): ask again, 1 s doubling to 30 s, while this link holds the listeners
        int attempt = bindAttempts.merge(t.id(), 1, Integer::sum);
        long delay = Math.min(30_000L, 1_000L << Math.min(5, attempt - 1));
        log.error("tunnel {}: the server {} could not listen: {}; asking again in {} ms (attempt {})", t.spec().label(),
                server.endpoint(), fail.message(), delay, attempt);
        up.eventLoop().schedule(() -> {
            if (!up.isClosed() && server.binder() == up && node.tunnels().get(t.id()) == t
                    && !node.draining().getAsBoolean()) {
                node.tunnels().bind(up, t);
            }
        }, delay, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
}
