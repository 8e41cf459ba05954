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
import io.sdt.core.link.LinkPipelines;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.Token;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.policy.Policy;
import io.sdt.core.transport.Outbound;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.dynamic.RouterCounters;
import com.github.benmanes.caffeine.cache.Ticker;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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
                    .childHandler(LinkPipelines.server(tls, config.token(), config.settings(), stats, new ServerHooks(this),
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

    // ---- for ServerHooks ----

    boolean draining() {
        return draining;
    }

    Outbound outbound() {
        return outbound;
    }

    EventLoopGroup group() {
        return group;
    }

    /** The remote listeners of {@code link}, created on first use. */
    Binds binds(Link link) {
        return binds.computeIfAbsent(link, Binds::new);
    }

    /** The remote listeners of {@code link}, or {@code null}. */
    Binds bindsOf(Link link) {
        return binds.get(link);
    }

    /** Forgets the remote listeners of a closed link; {@code null} if it had none. */
    Binds removeBinds(Link link) {
        return binds.remove(link);
    }

    void linkUp(Link link) {
        links.add(link.channel());
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
