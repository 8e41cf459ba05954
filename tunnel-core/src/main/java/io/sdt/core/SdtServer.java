package io.sdt.core;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkPipelines;
import io.sdt.core.link.ProxyProtocol;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.WaitingRoom;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.policy.Policy;
import io.sdt.core.policy.RecentAudit;
import io.sdt.core.transport.Outbound;
import io.sdt.core.tunnel.router.RouterCounters;
import io.sdt.core.tunnel.vpn.VpnCounters;
import io.sdt.core.tunnel.vpn.VpnServer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A node that accepts links ({@code sdt server}). Targets of channels its clients open must match
 * {@code allowTarget}; listeners its clients ask for ({@code -R}) must match {@code allowBind}; both
 * deny by default. What it does with each request is {@link ServerHooks}'s.
 *
 * <pre>{@code
 * try (SdtServer server = SdtServer.builder().listen("127.0.0.1", 0).token(token)
 *         .allowTarget("127.0.0.1:*").build().start()) {
 *     int port = server.address().getPort();
 *     ...
 * }
 * }</pre>
 */
public final class SdtServer implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(SdtServer.class);

    private final ServerConfig config;
    private final NodeStats stats = new NodeStats();
    private final RouterCounters routerStats = new RouterCounters();
    private final ChannelGroup links = new DefaultChannelGroup("links", GlobalEventExecutor.INSTANCE);
    /** The same links as {@link #links}, for operators' views; each leaves when its channel closes. */
    private final RecentAudit audit = new RecentAudit();
    private final java.util.Set<Link> linksUp = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Accepted link connections that have not authenticated yet. */
    private final WaitingRoom waiting;
    /** Created by {@link #start()}: the transport and the DNS resolver of every egress. */
    private Outbound outbound;
    private EventLoopGroup group;
    private ServerHooks hooks;
    private volatile Channel listener;
    /** The policy now in force; {@link #updatePolicy} swaps it for new channels and listeners. */
    private volatile Policy allowTarget;
    private volatile Policy allowBind;
    /** Set by {@link #drain}: new links, channels and listeners are refused. */
    private volatile boolean draining;
    private final VpnCounters vpnCounters = new VpnCounters();
    private VpnServer vpn;

    public SdtServer(ServerConfig config) {
        this.config = config;
        this.allowTarget = config.allowTarget();
        this.allowBind = config.allowBind();
        int capacity = config.settings().maxUnauthenticated();
        this.waiting = new WaitingRoom(capacity, WaitingRoom.defaultPerSource(capacity));
    }

    public static ServerConfig.Builder builder() {
        return new ServerConfig.Builder();
    }

    /**
     * Creates the TLS context and binds the link listener.
     *
     * @throws Exception if the TLS material cannot be loaded or the address cannot be bound
     */
    public SdtServer start() throws Exception {
        TlsSetup.ServerTls tls = TlsSetup.server(config.tls());
        group = config.transport().newGroup(config.threads(), new DefaultThreadFactory("sdt-server"));
        outbound = new Outbound(config.transport(), config.pushStateDir());
        if (config.vpn() != null) {
            try {
                vpn = new VpnServer(config.vpn(), vpnCounters).start();
            } catch (Exception e) {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                throw e;
            }
        }
        hooks = new ServerHooks(new ServerHooks.Context(stats, outbound, group, config.transport(), config.ticker(),
                routerStats, () -> allowTarget, () -> allowBind, () -> draining, this::linkUp,
                vpn, audit));
        LinkPipelines pipelines = new LinkPipelines(config.token(), config.settings(), stats, hooks);
        try {
            ServerBootstrap b = new ServerBootstrap().group(group).channel(config.transport().serverChannel())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(pipelines.server(tls, waiting, new ProxyProtocol(config.proxyProtocol()),
                            config.webSocketPath()));
            io.sdt.core.link.LinkSockets.server(b, config.transport().notSentLowat());
            listener = b.bind(config.listen().toSocketAddress()).sync().channel();
            group.scheduleAtFixedRate(pipelines::summarizeLogs, 10, 10, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (vpn != null) {
                vpn.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        log.info("server listening on {} (transport {}, targets {}, binds {}{})", HostPort.of(address()),
                config.transport().id(), config.allowTarget(), config.allowBind(), (config.proxyProtocol().isEmpty() ? ""
                        : ", PROXY protocol from " + config.proxyProtocol())
                        + (config.webSocketPath() == null ? "" : ", WebSocket at " + config.webSocketPath()));
        return this;
    }

    /** The bound link address (with the real port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    public NodeStats stats() {
        return stats;
    }

    /** Counters of the SOCKS5 / HTTP CONNECT front end of reverse dynamic listeners on this server. */
    public RouterCounters routerStats() {
        return routerStats;
    }

    /** The VPN's counters (all zero without {@code --vpn}). */
    public VpnCounters vpnCounters() {
        return vpnCounters;
    }

    public ServerConfig config() {
        return config;
    }

    /** True while the link listener is bound and open (false before {@link #start()} and after {@link #close()}). */
    public boolean isListening() {
        Channel l = listener;
        return l != null && l.isOpen();
    }

    /** Connections accepted and not yet authenticated. */
    public int pendingHandshakes() {
        return waiting.size();
    }

    private void linkUp(Link link) {
        links.add(link.channel());
        linksUp.add(link);
        link.channel().closeFuture().addListener(f -> linksUp.remove(link));
    }

    /** The VPN clients connected now (empty without {@code --vpn}). */
    public java.util.List<io.sdt.core.tunnel.vpn.VpnPeerView> vpnPeers() {
        VpnServer v = vpn;
        return v == null ? java.util.List.of() : v.peers();
    }

    /** The server's most recent audit events (every channel open its clients asked for). */
    public RecentAudit recentAudit() {
        return audit;
    }

    /** The links up now, oldest first, for operators. */
    public java.util.List<LinkView> linkViews() {
        return linksUp.stream().map(l -> LinkView.of(null, l))
                .sorted(java.util.Comparator.comparingLong(LinkView::sinceMillis)).toList();
    }

    /** Authenticated links now up. */
    public int linkCount() {
        return links.size();
    }

    /** The target policy now in force (the configured one, or the last {@link #updatePolicy}). */
    public Policy allowTarget() {
        return allowTarget;
    }

    /** The bind policy now in force. */
    public Policy allowBind() {
        return allowBind;
    }

    /**
     * Replaces the policy for channels and remote listeners asked for from now on (a configuration
     * reload). Open channels and listeners stay: they were allowed when they opened.
     */
    public void updatePolicy(Policy targets, Policy binds) {
        this.allowTarget = Objects.requireNonNull(targets, "targets");
        this.allowBind = Objects.requireNonNull(binds, "binds");
        log.info("policy updated (targets {}, binds {})", targets, binds);
    }

    /**
     * Graceful shutdown, first half: stops accepting links, closes every remote-forward listener and
     * refuses new channels (OPEN_FAIL REFUSED), then waits up to {@code timeout} for the open
     * channels to finish. Call {@link #close()} afterwards.
     *
     * @return true if every channel finished in time
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        draining = true;
        Channel l = listener;
        if (l != null) {
            l.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        if (hooks != null) {
            hooks.closeListeners();
        }
        log.info("draining: {} channels open, waiting up to {} ms", stats.channelsOpen(), timeout.toMillis());
        return Drain.await(stats, timeout);
    }

    /**
     * Stops accepting, tells every client it is going away, closes every channel and listener, and
     * stops the event loops. Idempotent.
     */
    @Override
    public void close() {
        if (group == null) {
            return;
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        for (Channel ch : links) {
            ch.writeAndFlush(new Frame.GoAway(ErrorCode.SHUTDOWN, "server shutting down"));
        }
        links.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        // the resolver's sockets live on the loops: close them while the loops still run (an
        // io_uring socket closed by a stopped loop leaks the buffer of its pending read)
        outbound.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        group = null;
        if (vpn != null) {
            vpn.close(); // the device goes with its addresses and routes
            vpn = null;
        }
        log.info("server stopped");
    }
}
