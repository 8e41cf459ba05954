package io.sdt.core;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkHooks;
import io.sdt.core.link.LinkPipelines;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.Token;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.policy.AuditLog;
import io.sdt.core.policy.Policy;
import io.sdt.core.policy.PolicyRule;
import io.sdt.core.transport.Outbound;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.tcp.StreamChannel;
import io.sdt.core.tunnel.tcp.TcpListener;
import io.sdt.core.tunnel.udp.UdpEgress;
import io.sdt.core.tunnel.dynamic.DynamicListener;
import io.sdt.core.tunnel.dynamic.RouterCounters;
import io.sdt.core.tunnel.push.PushEgress;
import io.sdt.core.tunnel.router.RouterSettings;
import io.sdt.core.tunnel.push.PushIngress;
import io.sdt.core.tunnel.udp.UdpIngress;
import com.github.benmanes.caffeine.cache.Ticker;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A node that accepts links ({@code sdt server}). Targets of channels its clients open must match
 * {@code allowTarget}; listeners its clients ask for ({@code -R}) must match {@code allowBind}; both
 * deny by default.
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
    /** Most remote-forward listeners one link may hold. */
    static final int MAX_BINDS_PER_LINK = 256;

    /** Validated server configuration. */
    public record Config(HostPort listen, Token token, Policy allowTarget, Policy allowBind,
                         TlsSetup.ServerOptions tls, Transport transport, LinkSettings settings, int threads,
                         Ticker ticker) {
        public Config {
            Objects.requireNonNull(listen, "listen");
            Objects.requireNonNull(token, "token");
            Objects.requireNonNull(allowTarget, "allowTarget");
            Objects.requireNonNull(allowBind, "allowBind");
            Objects.requireNonNull(tls, "tls");
            Objects.requireNonNull(transport, "transport");
            Objects.requireNonNull(settings, "settings");
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1");
            }
            if (ticker == null) {
                ticker = Ticker.systemTicker();
            }
        }

        public Config(HostPort listen, Token token, Policy allowTarget, Policy allowBind, TlsSetup.ServerOptions tls,
                      Transport transport, LinkSettings settings, int threads) {
            this(listen, token, allowTarget, allowBind, tls, transport, settings, threads, Ticker.systemTicker());
        }
    }

    private final Config config;
    private final NodeStats stats = new NodeStats();
    private final RouterCounters routerStats = new RouterCounters();
    /** Created by {@link #start()}: the transport and the DNS resolver of every egress. */
    private Outbound outbound;
    private final ChannelGroup links = new DefaultChannelGroup("links", GlobalEventExecutor.INSTANCE);
    private final Map<Link, Binds> binds = new ConcurrentHashMap<>();
    private final AtomicInteger unauthenticated = new AtomicInteger();
    private EventLoopGroup group;
    private volatile Channel listener;
    /** The policy now in force; {@link #updatePolicy} swaps it for new channels and listeners. */
    private volatile Policy allowTarget;
    private volatile Policy allowBind;
    /** Set by {@link #drain}: new links, channels and listeners are refused. */
    private volatile boolean draining;

    public SdtServer(Config config) {
        this.config = config;
        this.allowTarget = config.allowTarget();
        this.allowBind = config.allowBind();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Creates the TLS context and binds the link listener.
     *
     * @throws Exception if the TLS material cannot be loaded or the address cannot be bound
     */
    public SdtServer start() throws Exception {
        TlsSetup.ServerTls tls = TlsSetup.server(config.tls());
        group = config.transport().newGroup(config.threads(), new DefaultThreadFactory("sdt-server"));
        outbound = new Outbound(config.transport());
        try {
            ServerBootstrap b = new ServerBootstrap().group(group).channel(config.transport().serverChannel())
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                    .childHandler(LinkPipelines.server(tls, config.token(), config.settings(), stats, new Hooks(),
                            unauthenticated));
            listener = b.bind(config.listen().toSocketAddress()).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        log.info("server listening on {} (transport {}, targets {}, binds {})", HostPort.of(address()),
                config.transport().id(), config.allowTarget(), config.allowBind());
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

    public Config config() {
        return config;
    }

    /** True while the link listener is bound and open (false before {@link #start()} and after {@link #close()}). */
    public boolean isListening() {
        Channel l = listener;
        return l != null && l.isOpen();
    }

    /** Connections accepted and not yet authenticated. */
    public int pendingHandshakes() {
        return unauthenticated.get();
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
        for (Binds b : binds.values()) {
            b.link.eventLoop().execute(b::closeAll);
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
        log.info("server stopped");
    }

    private final class Hooks implements LinkHooks {

        @Override
        public void onUp(Link link) {
            links.add(link.channel());
        }

        @Override
        public void onOpen(Link link, Frame.Open open) {
            if (draining) {
                link.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.REFUSED, "server is shutting down"));
                return;
            }
            Optional<PolicyRule> rule = allowTarget.match(open.target());
            AuditLog.channelOpen(link, open, open.target(), rule);
            if (rule.isEmpty()) {
                stats.openDenied();
                log.warn("{}: channel {} to {} denied: no --allow-target rule matches", link, open.channel(), open.target());
                link.writeAndFlush(new Frame.OpenFail(open.channel(), ErrorCode.DENIED,
                        "target " + open.target() + " is not allowed by the server's policy (--allow-target)"));
                return;
            }
            log.debug("{}: channel {} to {} allowed by rule {}", link, open.channel(), open.target(), rule.get());
            if (open.udp()) {
                UdpEgress.open(link, open, open.target(), outbound);
            } else if (open.push()) {
                PushEgress.open(link, open, open.target(), outbound, open.window());
            } else {
                StreamChannel.egress(link, open, open.target(), outbound);
            }
        }

        @Override
        public void onBind(Link link, Frame.Bind bind) {
            if (draining) {
                link.writeAndFlush(new Frame.BindFail(bind.tunnelId(), ErrorCode.REFUSED, "server is shutting down"));
                return;
            }
            if (!allowBind.allows(bind.bind())) {
                stats.openDenied();
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
                    ? DynamicListener.bind(group, config.transport(), bind.bind(), tunnel, bind.tunnelId(), () -> link,
                            RouterSettings.of(null, config.transport().datagramChannel()), routerStats)
                    : tcpPush
                    ? PushIngress.bind(link.eventLoop(), config.transport(), bind.bind(), tunnel, bind.tunnelId(),
                            bind.bind(), () -> link)
                    : bind.udp()
                    ? UdpIngress.bind(link.eventLoop(), config.transport(), bind.bind(), tunnel, bind.tunnelId(),
                            bind.bind(), () -> link, config.ticker(), bind.sole() && exactPeer(bind.peer()))
                    : TcpListener.bind(group, config.transport(), bind.bind(), tunnel, bind.tunnelId(), bind.bind(),
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
                        if (link.isClosed() || !wanted || draining) {
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

    /** Fluent construction of a {@link Config}; every setter validates its input. */
    public static final class Builder {
        private HostPort listen = new HostPort("0.0.0.0", 7000);
        private Token token;
        private final List<String> allowTarget = new ArrayList<>();
        private final List<String> allowBind = new ArrayList<>();
        private TlsSetup.ServerOptions tls = TlsSetup.ServerOptions.SELF_SIGNED;
        private Transport transport = Transport.select("auto");
        private LinkSettings settings = LinkSettings.defaults();
        private int threads = Math.min(2, Runtime.getRuntime().availableProcessors());
        private Ticker ticker = Ticker.systemTicker();

        /** The clock of UDP tuple expiry (tests inject a fake one). */
        public Builder ticker(Ticker ticker) {
            this.ticker = ticker;
            return this;
        }

        public Builder listen(String host, int port) {
            this.listen = new HostPort(host, port);
            return this;
        }

        public Builder listen(HostPort address) {
            this.listen = address;
            return this;
        }

        public Builder token(Token token) {
            this.token = token;
            return this;
        }

        public Builder token(String token) {
            return token(Token.of(token));
        }

        public Builder allowTarget(String rule) {
            allowTarget.add(rule);
            return this;
        }

        public Builder allowBind(String rule) {
            allowBind.add(rule);
            return this;
        }

        public Builder tls(TlsSetup.ServerOptions tls) {
            this.tls = tls;
            return this;
        }

        public Builder transport(Transport transport) {
            this.transport = transport;
            return this;
        }

        public Builder settings(LinkSettings settings) {
            this.settings = settings;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder handshakeTimeout(Duration timeout) {
            this.settings = settings.withHandshakeTimeout(timeout, settings.maxUnauthenticated());
            return this;
        }

        public Config config() {
            if (token == null) {
                throw new IllegalArgumentException("a token is required");
            }
            return new Config(listen, token, Policy.parse("--allow-target", allowTarget),
                    Policy.parse("--allow-bind", allowBind), tls, transport, settings, threads, ticker);
        }

        public SdtServer build() {
            return new SdtServer(config());
        }
    }
}
