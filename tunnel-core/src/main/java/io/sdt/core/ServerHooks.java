package io.sdt.core;

import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkHooks;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.policy.AuditLog;
import io.sdt.core.policy.RecentAudit;
import io.sdt.core.policy.Policy;
import io.sdt.core.policy.PolicyRule;
import io.sdt.core.transport.Outbound;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.IngressContext;
import io.sdt.core.tunnel.Mode;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.router.proxy.RouterSettings;
import io.sdt.core.tunnel.router.proxy.RouterStats;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import io.sdt.core.tunnel.vpn.VpnServer;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What a server does with its clients' requests: checks each channel's target and each remote
 * listener's address against the policy in force, performs the egress, and keeps the listeners each
 * link asked for ({@link Binds}). Called on the link's event loop.
 */
final class ServerHooks implements LinkHooks {

    private static final Logger log = LogManager.getLogger(ServerHooks.class);
    /** Most remote-forward listeners one link may hold. */
    static final int MAX_BINDS_PER_LINK = 256;

    /**
     * What the hooks need of their server.
     *
     * @param targets  the target policy in force ({@code --allow-target})
     * @param binds    the listener policy in force ({@code --allow-bind})
     * @param draining true once the server drains: refuse new channels and listeners
     * @param linkUp   told of every link that comes up
     * @param vpn      the server's VPN, or {@code null} without {@code --vpn}
     */
    record Context(NodeStats stats, Outbound outbound, EventLoopGroup group, Transport transport, Ticker ticker,
                   RouterStats routerStats, Supplier<Policy> targets, Supplier<Policy> binds, BooleanSupplier draining,
                   Consumer<Link> linkUp, VpnServer vpn, RecentAudit audit) {
    }

    private final Context node;
    private final Map<Link, Binds> binds = new ConcurrentHashMap<>();

    ServerHooks(Context node) {
        this.node = node;
    }

    /** Closes every remote listener of every link (the server drains); the links stay up. */
    void closeListeners() {
        for (Binds b : binds.values()) {
            b.link.eventLoop().execute(b::closeAll);
        }
    }

    @Override
    public void onUp(Link link) {
        node.linkUp().accept(link);
    }

    @Override
    public void onOpen(Link link, Frame.Open open) {
        if (node.draining().getAsBoolean()) {
            link.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.REFUSED, "server is shutting down"));
            return;
        }
        if (open.vpn()) {
            // an L3 channel: its packets are checked one by one against --vpn-route, not as a target
            if (node.vpn() == null) {
                node.stats().openDenied();
                link.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.DENIED, "this server has no --vpn"));
            } else {
                node.vpn().open(link, open);
            }
            return;
        }
        Optional<PolicyRule> rule = node.targets().get().match(open.target());
        AuditLog.channelOpen(node.audit(), link, open, open.target(), rule);
        if (rule.isEmpty()) {
            node.stats().openDenied();
            log.warn("{}: channel {} to {} denied: no --allow-target rule matches", link, open.channel(), open.target());
            link.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.DENIED,
                    "target " + open.target() + " is not allowed by the server's policy (--allow-target)"));
            return;
        }
        log.debug("{}: channel {} to {} allowed by rule {}", link, open.channel(), open.target(), rule.get());
        TunnelModes.of(Mode.of(open)).egress(link, open, open.target(), null, node.outbound());
    }

    @Override
    public void onBind(Link link, Frame.Bind bind) {
        if (node.draining().getAsBoolean()) {
            link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.REFUSED, "server is shutting down"));
            return;
        }
        if (!node.binds().get().allows(bind.bind())) {
            node.stats().openDenied();
            log.warn("{}: remote listener on {} denied: no --allow-bind rule matches", link, bind.bind());
            link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.DENIED,
                    "listening on " + bind.bind() + " is not allowed by the server's policy (--allow-bind)"));
            return;
        }
        Binds mine = binds.computeIfAbsent(link, Binds::new);
        if (mine.size() >= MAX_BINDS_PER_LINK) {
            link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.LIMIT,
                    "at most " + MAX_BINDS_PER_LINK + " remote listeners per link"));
            return;
        }
        boolean tcpPush = bind.push() && !bind.udp();
        if (tcpPush && (bind.idleMillis() < 16 || bind.idleMillis() > TunnelSpec.RECORD_LIMIT)) {
            link.protocolViolation("BIND for TCP push with record length " + bind.idleMillis());
            return;
        }
        if (!mine.pending(bind.tunnelId())) {
            link.protocolViolation("BIND for tunnel " + bind.tunnelId() + " which is bound already");
            return;
        }
        // a reload that changes a tunnel sends UNBIND then BIND for the same port: listen once the old one is shut
        Tunnel tunnel = new Tunnel(bind.tunnelId(), spec(bind, tcpPush));
        mine.afterClosing(() -> listen(link, bind, tunnel, mine));
    }

    /**
     * The server's view of a client's {@code -R} tunnel. Its OPEN frames carry the listener's address as
     * the target: the client connects to the target it configured, never to one the server names. For
     * a TCP push tunnel BIND's idle field carries {@code record=}, the longest record.
     */
    private static TunnelSpec spec(Frame.Bind bind, boolean tcpPush) {
        return new TunnelSpec(TunnelSpec.Direction.REMOTE, bind.udp(), bind.bind(), bind.dynamic() ? null : bind.bind(),
                bind.maxChannels(), !tcpPush && bind.idleMillis() > 0 ? Duration.ofMillis(bind.idleMillis()) : null,
                bind.push(), bind.peer(), tcpPush ? bind.idleMillis() : 0, 0, null, TunnelSpec.Relp.NONE, false,
                bind.optimistic(), bind.bind() + (bind.udp() ? "/udp" : "") + "#" + bind.tunnelId());
    }

    private void listen(Link link, Frame.Bind bind, Tunnel tunnel, Binds mine) {
        // reverse dynamic: customers here name targets and the client's policy decides; no credentials here
        IngressContext in = new IngressContext(node.group(), link.eventLoop(), node.transport(), () -> link,
                node.ticker(), bind.sole() && tunnel.spec().exactPeer(),
                RouterSettings.of(null, node.transport().datagramChannel()), node.routerStats(), node.stats());
        ChannelFuture listening = TunnelModes.of(tunnel.spec().mode()).listen(tunnel, in);
        listening.addListener(f -> link.eventLoop().execute(() -> {
            Channel ch = listening.channel();
            boolean wanted = mine.settle(bind.tunnelId());
            if (!f.isSuccess()) {
                log.warn("{}: remote listener on {} failed: {}", link, bind.bind(), f.cause().getMessage());
                link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.GENERAL,
                        "cannot listen on " + bind.bind() + ": " + f.cause().getMessage()));
                return;
            }
            if (link.isClosed() || !wanted || node.draining().getAsBoolean()) {
                ch.close(); // the link went, or UNBIND came while the listener was being bound
                return;
            }
            mine.listening(bind.tunnelId(), ch);
            HostPort bound = HostPort.of((InetSocketAddress) ch.localAddress());
            log.info("tunnel R:{}{} listening on {} (for {})", bind.bind(), bind.udp() ? "/udp" : "", bound, link);
            link.writeAndFlush(new Frame.BindOk(bind.tunnelId(), bound));
        }));
    }

    @Override
    public void onUnbind(Link link, Frame.Unbind unbind) {
        Binds mine = binds.get(link);
        if (mine != null && mine.unbind(unbind.tunnelId())) {
            log.info("{}: remote listener of tunnel #{} closed at the client's request", link, unbind.tunnelId());
        }
    }

    @Override
    public void onClosed(Link link) {
        Binds mine = binds.remove(link);
        if (mine != null) {
            mine.closeAll();
        }
        log.info("{}: link closed", link);
    }
}
