package io.sdt.core;

import io.netty.channel.Channel;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkHooks;
import io.sdt.core.policy.AuditLog;
import io.sdt.core.policy.PolicyRule;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.dynamic.DynamicListener;
import io.sdt.core.tunnel.push.PushEgress;
import io.sdt.core.tunnel.push.PushIngress;
import io.sdt.core.tunnel.router.RouterSettings;
import io.sdt.core.tunnel.tcp.StreamChannel;
import io.sdt.core.tunnel.tcp.TcpListener;
import io.sdt.core.tunnel.udp.UdpEgress;
import io.sdt.core.tunnel.udp.UdpIngress;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * What a server does with its clients' requests: checks each channel's target and each remote
 * listener's address against the policy in force, performs the egress, and keeps the listeners a
 * link asked for ({@link Binds}). Runs on the link's event loop.
 */
final class ServerHooks implements LinkHooks {

    private static final Logger log = LogManager.getLogger(ServerHooks.class);

    private final SdtServer server;
    private final SdtServer.Config config;

    ServerHooks(SdtServer server) {
        this.server = server;
        this.config = server.config();
    }

    @Override
    public void onUp(Link link) {
        server.linkUp(link);
    }

    @Override
    public void onOpen(Link link, Frame.Open open) {
        if (server.draining()) {
            link.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.REFUSED, "server is shutting down"));
            return;
        }
        Optional<PolicyRule> rule = server.allowTarget().match(open.target());
        AuditLog.channelOpen(link, open, open.target(), rule);
        if (rule.isEmpty()) {
            server.stats().openDenied();
            log.warn("{}: channel {} to {} denied: no --allow-target rule matches", link, open.channel(), open.target());
            link.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.DENIED,
                    "target " + open.target() + " is not allowed by the server's policy (--allow-target)"));
            return;
        }
        log.debug("{}: channel {} to {} allowed by rule {}", link, open.channel(), open.target(), rule.get());
        if (open.udp()) {
            UdpEgress.open(link, open, open.target(), server.outbound());
        } else if (open.push()) {
            PushEgress.open(link, open, open.target(), server.outbound(), open.window());
        } else {
            StreamChannel.egress(link, open, open.target(), server.outbound());
        }
    }

    @Override
    public void onBind(Link link, Frame.Bind bind) {
        if (server.draining()) {
            link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.REFUSED, "server is shutting down"));
            return;
        }
        if (!server.allowBind().allows(bind.bind())) {
            server.stats().openDenied();
            log.warn("{}: remote listener on {} denied: no --allow-bind rule matches", link, bind.bind());
            link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.DENIED,
                    "listening on " + bind.bind() + " is not allowed by the server's policy (--allow-bind)"));
            return;
        }
        Binds mine = server.binds(link);
        if (mine.size() >= SdtServer.MAX_BINDS_PER_LINK) {
            link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.LIMIT,
                    "at most " + SdtServer.MAX_BINDS_PER_LINK + " remote listeners per link"));
            return;
        }
        boolean tcpPush = bind.push() && !bind.udp();
        if (tcpPush && (bind.idleMillis() < 16 || bind.idleMillis() > TunnelSpec.RECORD_LIMIT)) {
            link.protocolViolation("BIND for TCP push with record length " + bind.idleMillis());
            return;
        }
        // for a TCP push tunnel BIND's idle field carries record=, the longest record
        TunnelSpec spec = new TunnelSpec(TunnelSpec.Direction.REMOTE, bind.udp(), bind.bind(),
                bind.dynamic() ? null : bind.bind(),
                bind.maxChannels(), !tcpPush && bind.idleMillis() > 0 ? Duration.ofMillis(bind.idleMillis()) : null,
                bind.push(), bind.peer(), tcpPush ? bind.idleMillis() : 0, 0,
                bind.bind() + (bind.udp() ? "/udp" : "") + "#" + bind.tunnelId());
        if (!mine.pending(bind.tunnelId())) {
            link.protocolViolation("BIND for tunnel " + bind.tunnelId() + " which is bound already");
            return;
        }
        // a reload that changes a tunnel sends UNBIND then BIND for the same port: listen once the old one is shut
        mine.afterClosing(() -> listen(link, bind, spec, tcpPush, mine));
    }

    private void listen(Link link, Frame.Bind bind, TunnelSpec spec, boolean tcpPush, Binds mine) {
        Tunnel tunnel = new Tunnel(bind.tunnelId(), spec);
        io.netty.channel.ChannelFuture listening = bind.dynamic()
                // reverse dynamic: customers here name targets; the client's policy decides
                ? DynamicListener.bind(server.group(), config.transport(), bind.bind(), tunnel, bind.tunnelId(), () -> link,
                        RouterSettings.of(null, config.transport().datagramChannel()), server.routerStats())
                : tcpPush
                ? PushIngress.bind(link.eventLoop(), config.transport(), bind.bind(), tunnel, bind.tunnelId(),
                        bind.bind(), () -> link)
                : bind.udp()
                ? UdpIngress.bind(link.eventLoop(), config.transport(), bind.bind(), tunnel, bind.tunnelId(),
                        bind.bind(), () -> link, config.ticker(), bind.sole() && exactPeer(bind.peer()))
                : TcpListener.bind(server.group(), config.transport(), bind.bind(), tunnel, bind.tunnelId(), bind.bind(),
                        () -> link);
        listening.addListener(f -> link.eventLoop().execute(() -> {
                    Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
                    boolean wanted = mine.settle(bind.tunnelId());
                    if (!f.isSuccess()) {
                        log.warn("{}: remote listener on {} failed: {}", link, bind.bind(), f.cause().getMessage());
                        link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.GENERAL,
                                "cannot listen on " + bind.bind() + ": " + f.cause().getMessage()));
                        return;
                    }
                    if (link.isClosed() || !wanted || server.draining()) {
                        ch.close(); // the link went, or UNBIND came while the listener was being bound
                        return;
                    }
                    mine.listening(bind.tunnelId(), ch);
                    HostPort bound = HostPort.of((InetSocketAddress) ch.localAddress());
                    log.info("tunnel R:{}{} listening on {} (for {})", bind.bind(), bind.udp() ? "/udp" : "", bound, link);
                    link.writeAndFlush(new Frame.BindOk(bind.tunnelId(), bound));
                }));
    }

    private static boolean exactPeer(HostPort peer) {
        return peer != null && peer.port() != 0;
    }

    @Override
    public void onUnbind(Link link, Frame.Unbind unbind) {
        Binds mine = server.bindsOf(link);
        if (mine != null && mine.unbind(unbind.tunnelId())) {
            log.info("{}: remote listener of tunnel #{} closed at the client's request", link, unbind.tunnelId());
        }
    }

    @Override
    public void onClosed(Link link) {
        Binds mine = server.removeBinds(link);
        if (mine != null) {
            mine.closeAll();
        }
        log.info("{}: link closed", link);
    }
}
