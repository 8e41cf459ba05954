package io.sdt.core;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Promise;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.HostPort;
import io.sdt.core.link.AuthException;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkPipelines;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.link.Token;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.transport.Outbound;
import io.sdt.core.transport.Transport;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.policy.Policy;
import io.sdt.core.policy.PolicyRule;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.dynamic.RouterCounters;
import io.sdt.core.tunnel.router.ProxyAuth;
import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.channel.EventLoop;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import io.sdt.codec.Frame;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A node that dials a server ({@code sdt client}) and runs local ({@code -L}) and remote
 * ({@code -R}) forwards over the link. Local listeners are bound at start and stay bound; while the
 * link is down their connections are closed at once. When the link drops the client reconnects with
 * exponential backoff and asks for its remote listeners again. A failed authentication is final.
 *
 * <pre>{@code
 * try (SdtClient client = SdtClient.builder().server("127.0.0.1", port).token(token)
 *         .forward(TunnelSpec.Direction.LOCAL, "0:127.0.0.1:8080").build().start()) {
 *     client.awaitUp(Duration.ofSeconds(5));
 *     int local = client.tunnels().get(0).boundAddress().getPort();
 * }
 * }</pre>
 */
public final class SdtClient implements AutoCloseable {

    private static final Logger log = LogManager.getLogger(SdtClient.class);

    /** Validated client configuration. */
    public record Config(HostPort server, Token token, List<TunnelSpec> tunnels, TlsSetup.ClientOptions tls,
                         Transport transport, LinkSettings settings, Duration reconnectMin, Duration reconnectMax,
                         int threads, Ticker ticker, Policy exitPolicy, ProxyAuth proxyAuth) {
        /**
         * @param exitPolicy targets the server may ask this client to connect to for a reverse dynamic
         *                   tunnel ({@code -R PORT}); required (non-empty) when there is one
         * @param proxyAuth  SOCKS5 / HTTP CONNECT credentials customers of {@code -D} must give, or {@code null}
         */
        public Config {
            if (exitPolicy == null) {
                exitPolicy = Policy.denyAll();
            }
            boolean reverseDynamic = tunnels.stream()
                    .anyMatch(t -> t.dynamic() && t.direction() == TunnelSpec.Direction.REMOTE);
            if (reverseDynamic && exitPolicy.rules().isEmpty()) {
                throw new IllegalArgumentException("-R with only a port (reverse dynamic) exits at this client: give "
                        + "--allow-target rules for the targets its customers may reach");
            }
            Objects.requireNonNull(server, "server");
            Objects.requireNonNull(token, "token");
            tunnels = List.copyOf(tunnels);
            Objects.requireNonNull(tls, "tls");
            Objects.requireNonNull(transport, "transport");
            Objects.requireNonNull(settings, "settings");
            if (reconnectMin.isNegative() || reconnectMin.isZero() || reconnectMax.compareTo(reconnectMin) < 0) {
                throw new IllegalArgumentException("reconnect backoff must satisfy 0 < min <= max");
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1");
            }
            if (ticker == null) {
                ticker = Ticker.systemTicker();
            }
        }

        public Config(HostPort server, Token token, List<TunnelSpec> tunnels, TlsSetup.ClientOptions tls,
                      Transport transport, LinkSettings settings, Duration reconnectMin, Duration reconnectMax,
                      int threads) {
            this(server, token, tunnels, tls, transport, settings, reconnectMin, reconnectMax, threads,
                    Ticker.systemTicker(), null, null);
        }
    }

    private final Config config;
    private final NodeStats stats = new NodeStats();
    private final RouterCounters routerStats = new RouterCounters();
    /** Created by {@link #start()}: the transport and the DNS resolver of every egress. */
    private Outbound outbound;
    /** The tunnels in force, their ids and local listeners. */
    private final ClientTunnels tunnels;
    private volatile Policy exitPolicy;
    private volatile ProxyAuth proxyAuth;
    private volatile boolean draining;
    private final CompletableFuture<Void> fatal = new CompletableFuture<>();
    private final Object upLock = new Object();
    private EventLoopGroup group;
    /** Every link of this client and every UDP ingress live on this one loop (UdpIngress needs that). */
    private EventLoop linkLoop;
    private SslContext ssl;
    private volatile Link link;
    private volatile boolean closed;
    private int attempts;

    public SdtClient(Config config) {
        this.config = config;
        this.exitPolicy = config.exitPolicy();
        this.proxyAuth = config.proxyAuth();
        this.tunnels = new ClientTunnels(this, config.tunnels());
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds the local listeners and starts dialing. Returns once the listeners are bound; the link
     * comes up in the background ({@link #awaitUp}).
     *
     * @throws Exception if a local listener cannot be bound or the TLS material cannot be loaded
     */
    public SdtClient start() throws Exception {
        ssl = TlsSetup.client(config.tls());
        group = config.transport().newGroup(config.threads(), new DefaultThreadFactory("sdt-client"));
        outbound = new Outbound(config.transport());
        linkLoop = group.next();
        try {
            tunnels.listenAll();
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot listen: " + e.getMessage(), e);
        }
        linkLoop.execute(this::connect);
        return this;
    }

    /** The tunnels in force, in configuration order. */
    public List<Tunnel> tunnels() {
        return tunnels.list();
    }

    /** The reverse dynamic exit policy in force (the configured one, or the last reload's). */
    public Policy exitPolicy() {
        return exitPolicy;
    }

    boolean draining() {
        return draining;
    }

    /** What a {@link #reconfigure} changed: tunnels kept running, closed, and started. */
    public record Change(List<Tunnel> kept, List<Tunnel> removed, List<Tunnel> added) {
    }

    /**
     * Applies a new set of tunnels and policy while running (a configuration reload). A tunnel whose
     * spec is unchanged keeps its listener and its open channels. A removed tunnel stops listening
     * (a remote one gets UNBIND); channels already open through it run until they close, as with
     * OpenSSH's {@code -O cancel}. A changed tunnel is a removed one plus an added one. An added local
     * tunnel that cannot bind is kept with its error ({@link Tunnel#lastError()}); the others apply.
     * The exit policy and proxy credentials apply to channels and connections from now on.
     *
     * @throws IllegalArgumentException if the change needs a restart (it would switch the link's
     *                                  sole-tunnel datagram mode); nothing has changed then
     */
    public synchronized Change reconfigure(List<TunnelSpec> specs, Policy exits, ProxyAuth auth)
            throws InterruptedException {
        if (group == null || closed) {
            throw new IllegalStateException("client is not running");
        }
        if (ClientTunnels.sole(specs) != soleTunnel()) {
            throw new IllegalArgumentException("the change switches the link's sole-tunnel mode (one direct UDP tunnel "
                    + "with an exact peer); restart the client to apply it");
        }
        Policy newExits = exits == null ? Policy.denyAll() : exits;
        boolean reverseDynamic = specs.stream().anyMatch(t -> t.dynamic() && t.direction() == TunnelSpec.Direction.REMOTE);
        if (reverseDynamic && newExits.rules().isEmpty()) {
            throw new IllegalArgumentException("a reverse dynamic tunnel needs allow_target rules on the client");
        }
        boolean authChanged = !Objects.equals(auth, proxyAuth);
        exitPolicy = newExits;
        proxyAuth = auth;
        return tunnels.reconfigure(specs, authChanged);
    }

    /**
     * Graceful shutdown, first half: closes the local listeners, withdraws the remote ones (UNBIND),
     * refuses channels the server opens from now on, then waits up to {@code timeout} for the open
     * channels to finish. Call {@link #close()} afterwards.
     *
     * @return true if every channel finished in time
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        draining = true;
        tunnels.closeListeners();
        EventLoop loop = linkLoop;
        if (loop != null && !loop.isShuttingDown()) {
            loop.execute(() -> {
                Link up = link;
                if (up != null && !up.isClosed()) {
                    tunnels.list().stream().filter(t -> t.spec().direction() == TunnelSpec.Direction.REMOTE)
                            .forEach(t -> up.write(new Frame.Unbind(t.id())));
                    up.flush();
                }
            });
        }
        log.info("draining: {} channels open, waiting up to {} ms", stats.channelsOpen(), timeout.toMillis());
        return Drain.await(stats, timeout);
    }

    public NodeStats stats() {
        return stats;
    }

    /** The transport and DNS resolver this client's egresses use (for -R targets). */
    Outbound outbound() {
        return outbound;
    }

    /** Counters of the SOCKS5 / HTTP CONNECT front end of this client's {@code -D} listeners. */
    public RouterCounters routerStats() {
        return routerStats;
    }

    public Config config() {
        return config;
    }

    /** True while an authenticated link is up. */
    public boolean isUp() {
        Link l = link;
        return l != null && !l.isClosed();
    }

    /** Waits up to {@code timeout} for an authenticated link; false on timeout or a fatal failure. */
    public boolean awaitUp(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (upLock) {
            while (!isUp() && !fatal.isDone()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                upLock.wait(Math.max(1, left / 1_000_000));
            }
        }
        return isUp();
    }

    /** Completes exceptionally with an {@link AuthException} when authentication fails (not retried). */
    public CompletableFuture<Void> fatalFailure() {
        return fatal;
    }

    private void connect() {
        if (closed) {
            return;
        }
        Promise<Link> result = linkLoop.newPromise();
        HostPort server = config.server();
        Bootstrap b = new Bootstrap().group(linkLoop).channel(config.transport().socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.settings().connectTimeout().toMillis())
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(1 << 20, 4 << 20))
                .handler(LinkPipelines.client(ssl, server.host(), server.port(), config.token(), config.settings(),
                        stats, new ClientHooks(this), result));
        b.connect(server.toSocketAddress()).addListener(f -> {
            if (!f.isSuccess()) {
                result.tryFailure(f.cause());
            }
        });
        result.addListener(f -> {
            if (f.isSuccess()) {
                Link up = result.getNow();
                attempts = 0;
                link = up;
                signalUp();
                log.info("{}: link up to {}", up, server);
                up.channel().closeFuture().addListener(x -> onLinkDown(up));
            } else if (f.cause() instanceof AuthException auth) {
                log.error("authentication with {} failed: {}; not retrying", server, auth.getMessage());
                fatal.completeExceptionally(auth);
                signalUp();
            } else {
                scheduleReconnect("cannot reach " + server + ": " + f.cause().getMessage());
            }
        });
    }

    private void onLinkDown(Link down) {
        if (link == down) {
            link = null;
        }
        for (Tunnel t : tunnels.list()) {
            if (t.spec().direction() == TunnelSpec.Direction.REMOTE) {
                t.bound(null);
            }
        }
        if (!closed) {
            scheduleReconnect("link to " + config.server() + " lost");
        }
    }

    private void scheduleReconnect(String why) {
        if (closed || group == null || group.isShuttingDown()) {
            return;
        }
        long min = config.reconnectMin().toMillis();
        long delay = Math.min(config.reconnectMax().toMillis(), min << Math.min(attempts, 20));
        delay = delay - delay / 5 + ThreadLocalRandom.current().nextLong(delay / 5 + 1);
        attempts++;
        log.warn("{}; reconnecting in {} ms (attempt {})", why, delay, attempts);
        linkLoop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    private void signalUp() {
        synchronized (upLock) {
            upLock.notifyAll();
        }
    }

    /** Closes the link and every listener and stops the event loops. Idempotent. */
    @Override
    public void close() {
        closed = true;
        if (group == null) {
            return;
        }
        tunnels.closeListeners();
        Link l = link;
        if (l != null) {
            l.close(ErrorCode.SHUTDOWN, "client shutting down");
            l.channel().closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        // the resolver's sockets live on the loops: close them while the loops still run (an
        // io_uring socket closed by a stopped loop leaks the buffer of its pending read)
        outbound.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        group = null;
        signalUp();
    }

    /**
     * True if this client's link carries exactly one tunnel and it is a direct UDP tunnel with an
     * exact peer: then its one channel sends datagrams with no channel-id bytes (SOLE_DATAGRAM).
     */
    boolean soleTunnel() {
        return tunnels.sole();
    }

    Tunnel tunnel(int id) {
        return tunnels.get(id);
    }

    /** The BIND that asks the server for remote tunnel {@code t}'s listener. */
    Frame.Bind bindFrame(Tunnel t) {
        return tunnels.bindFrame(t);
    }

    /** True if {@code id} named a tunnel of this client once (a late BIND_OK for a removed tunnel is no error). */
    boolean issued(int id) {
        return tunnels.issued(id);
    }

    // ---- for ClientTunnels ----

    EventLoopGroup group() {
        return group;
    }

    EventLoop linkLoop() {
        return linkLoop;
    }

    Link link() {
        return link;
    }

    ProxyAuth proxyAuth() {
        return proxyAuth;
    }

    /** Fluent construction of a {@link Config}; every setter validates its input. */
    public static final class Builder {
        private HostPort server;
        private Token token;
        private final List<TunnelSpec> tunnels = new ArrayList<>();
        private TlsSetup.ClientOptions tls = TlsSetup.ClientOptions.DEFAULT;
        private Transport transport = Transport.select("auto");
        private LinkSettings settings = LinkSettings.defaults();
        private Duration reconnectMin = Duration.ofMillis(200);
        private Duration reconnectMax = Duration.ofSeconds(10);
        private int threads = 1;
        private Ticker ticker = Ticker.systemTicker();
        private final List<PolicyRule> exitRules = new ArrayList<>();
        private ProxyAuth proxyAuth;

        /** Adds a {@code -D [BIND_ADDR:]PORT} SOCKS5 / HTTP CONNECT listener ({@link TunnelSpec#parseDynamic}). */
        public Builder dynamic(String spec) {
            tunnels.add(TunnelSpec.parseDynamic(spec));
            return this;
        }

        /** Allows reverse dynamic customers to reach targets matching {@code rule} (see {@link PolicyRule}). */
        public Builder allowTarget(String rule) {
            exitRules.add(PolicyRule.parse("--allow-target", rule));
            return this;
        }

        /** Credentials that customers of the {@code -D} listeners must give; {@code null} for none. */
        public Builder proxyAuth(ProxyAuth auth) {
            this.proxyAuth = auth;
            return this;
        }

        /** The clock of UDP tuple expiry (tests inject a fake one). */
        public Builder ticker(Ticker ticker) {
            this.ticker = ticker;
            return this;
        }

        public Builder server(String host, int port) {
            this.server = new HostPort(host, port);
            return this;
        }

        public Builder server(HostPort server) {
            this.server = server;
            return this;
        }

        public Builder token(Token token) {
            this.token = token;
            return this;
        }

        public Builder token(String token) {
            return token(Token.of(token));
        }

        /** Adds a tunnel from its SPEC text ({@link TunnelSpec#parse}). */
        public Builder forward(TunnelSpec.Direction direction, String spec) {
            tunnels.add(TunnelSpec.parse(direction, spec));
            return this;
        }

        public Builder forward(TunnelSpec spec) {
            tunnels.add(spec);
            return this;
        }

        public Builder tls(TlsSetup.ClientOptions tls) {
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

        public Builder reconnect(Duration min, Duration max) {
            this.reconnectMin = min;
            this.reconnectMax = max;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Config config() {
            if (server == null) {
                throw new IllegalArgumentException("a server address is required");
            }
            if (token == null) {
                throw new IllegalArgumentException("a token is required");
            }
            return new Config(server, token, tunnels, tls, transport, settings, reconnectMin, reconnectMax, threads,
                    ticker, Policy.of(exitRules), proxyAuth);
        }

        public SdtClient build() {
            return new SdtClient(config());
        }
    }
}
