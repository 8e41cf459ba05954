package io.sdt.core;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.sdt.codec.ErrorCode;
import io.sdt.core.link.AuthException;
import io.sdt.core.link.Link;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.policy.Policy;
import io.sdt.core.policy.RecentAudit;
import io.sdt.core.transport.Outbound;
import io.sdt.core.tunnel.IngressContext;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.router.RouterCounters;
import io.sdt.core.tunnel.router.proxy.ProxyAuth;
import io.sdt.core.tunnel.router.proxy.RouterSettings;
import io.sdt.core.tunnel.vpn.VpnClient;
import io.sdt.core.tunnel.vpn.VpnCounters;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A node that dials its servers ({@code sdt client}) and runs local ({@code -L}) and remote
 * ({@code -R}) forwards over the links. Local listeners are bound at start and stay bound; a new
 * connection goes to the link with the fewest channels, and while no link is up it is closed at once.
 * The {@link LinkSet} keeps every link up; when a server's link comes back the client asks that server
 * for its remote listeners again ({@link ClientHooks}), so each server listens for every {@code -R}.
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

    private final ClientConfig config;
    private final NodeStats stats = new NodeStats();
    private final RecentAudit audit = new RecentAudit();
    private final RouterCounters routerStats = new RouterCounters();
    private final VpnCounters vpnCounters = new VpnCounters();
    private volatile VpnClient vpn;
    /** The tunnels in force, their ids and local listeners. */
    private final ClientTunnels tunnels;
    private volatile Policy exitPolicy;
    private volatile boolean draining;
    private volatile boolean closed;
    private final CompletableFuture<Void> fatal = new CompletableFuture<>();
    /** Created by {@link #start()}: the transport and the DNS resolver of every egress. */
    private Outbound outbound;
    private EventLoopGroup group;
    /** Every link of this client and every UDP ingress live on this one loop (UdpIngress needs that). */
    private EventLoop linkLoop;
    private LinkSet links;

    public SdtClient(ClientConfig config) {
        this.config = config;
        this.exitPolicy = config.exitPolicy();
        this.tunnels = new ClientTunnels(config.tunnels(), config.proxyAuth());
    }

    public static ClientConfig.Builder builder() {
        return new ClientConfig.Builder();
    }

    /**
     * Binds the local listeners and starts dialing. Returns once the listeners are bound; the link
     * comes up in the background ({@link #awaitUp}).
     *
     * @throws Exception if a local listener cannot be bound or the TLS material cannot be loaded
     */
    public SdtClient start() throws Exception {
        var ssl = TlsSetup.client(config.tls());
        group = config.transport().newGroup(config.threads(), new DefaultThreadFactory("sdt-client"));
        outbound = new Outbound(config.transport(), config.pushStateDir());
        linkLoop = group.next();
        if (config.vpn() != null) {
            try {
                vpn = new VpnClient(config.vpn(), vpnCounters).start();
            } catch (Exception e) {
                close();
                throw e;
            }
        }
        ClientHooks.Context context = new ClientHooks.Context(stats, outbound, tunnels, () -> exitPolicy,
                () -> draining, vpn, config.servers().size() > 1, audit);
        try {
            links = new LinkSet(config, ssl, linkLoop, stats, server -> new ClientHooks(context, server),
                    this::linkDown, fatal);
            tunnels.listenAll(new IngressContext(group, linkLoop, config.transport(), links, config.ticker(),
                    false, RouterSettings.of(config.proxyAuth(), config.transport().datagramChannel()), routerStats,
                    stats), this::binders);
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot listen: " + e.getMessage(), e);
        }
        links.start();
        return this;
    }

    /** A link went down (link loop): its server's remote listeners move to another of its links, or are gone. */
    private void linkDown(LinkSet.Server server, Link down) {
        Link next = server.released(down);
        if (next == null && server.binder() != null) {
            return; // another link of that server holds its listeners
        }
        tunnels.linkDown(server.endpoint().toString());
        if (next != null && !draining) {
            tunnels.bindAll(next);
        }
    }

    /** The link of each server that holds its remote listeners. Link loop only. */
    private List<Link> binders() {
        return links.servers().stream().map(LinkSet.Server::binder).filter(java.util.Objects::nonNull).toList();
    }

    /** The tunnels in force, in configuration order. */
    public List<Tunnel> tunnels() {
        return tunnels.list();
    }

    /** The reverse dynamic exit policy in force (the configured one, or the last reload's). */
    public Policy exitPolicy() {
        return exitPolicy;
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
    public synchronized TunnelChange reconfigure(List<TunnelSpec> specs, Policy exits, ProxyAuth auth)
            throws InterruptedException {
        if (group == null || closed) {
            throw new IllegalStateException("client is not running");
        }
        if (TunnelSpec.sole(specs) != tunnels.sole()) {
            throw new IllegalArgumentException("the change switches the link's sole-tunnel mode (one direct UDP tunnel "
                    + "with an exact peer); restart the client to apply it");
        }
        Policy newExits = exits == null ? Policy.denyAll() : exits;
        ClientConfig.requireExits(specs, newExits);
        exitPolicy = newExits;
        return tunnels.reconfigure(specs, auth);
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
            loop.execute(() -> binders().forEach(tunnels::unbindAll));
        }
        log.info("draining: {} channels open, waiting up to {} ms", stats.channelsOpen(), timeout.toMillis());
        return Drain.await(stats, timeout);
    }

    public NodeStats stats() {
        return stats;
    }

    /** Counters of the SOCKS5 / HTTP CONNECT front end of this client's {@code -D} listeners. */
    public RouterCounters routerStats() {
        return routerStats;
    }

    /** The VPN's counters (all zero without {@code --vpn}). */
    public VpnCounters vpnCounters() {
        return vpnCounters;
    }

    /** This client as a VPN peer: its addresses and its link, once the server granted them; else empty. */
    public java.util.List<io.sdt.core.tunnel.vpn.VpnPeerView> vpnPeers() {
        java.util.List<io.sdt.codec.IpPrefix> addresses = vpnAddresses();
        java.util.List<Link> up = links();
        if (addresses.isEmpty() || up.isEmpty()) {
            return java.util.List.of();
        }
        return java.util.List.of(new io.sdt.core.tunnel.vpn.VpnPeerView(null, addresses, up.getFirst().toString(),
                up.getFirst().upSince()));
    }

    /** The VPN device's addresses now (empty without {@code --vpn} or before the server's grant). */
    public java.util.List<io.sdt.codec.IpPrefix> vpnAddresses() {
        VpnClient v = vpn;
        return v == null ? java.util.List.of() : v.addresses();
    }

    public ClientConfig config() {
        return config;
    }

    /** True while an authenticated link is up (to any of the servers). */
    public boolean isUp() {
        LinkSet l = links;
        return l != null && l.up() > 0;
    }

    /** The links up now, to every server (each says how many channels it carries). */
    public List<Link> links() {
        LinkSet l = links;
        return l == null ? List.of() : l.links();
    }

    /** The client's most recent audit events (channels its reverse tunnels' servers opened). */
    public RecentAudit recentAudit() {
        return audit;
    }

    /** Every link the client keeps ({@code servers x --links}), up or down, for operators. */
    public List<LinkView> linkViews() {
        LinkSet l = links;
        return l == null ? List.of() : l.views();
    }

    /** How many of the client's links ({@code servers x --links}) are up. */
    public int linksUp() {
        LinkSet l = links;
        return l == null ? 0 : l.up();
    }

    /**
     * Null while every link is up, or while none is (then {@link #isUp()} is false); otherwise a line saying
     * which links are down: the client works, with fewer servers than it was given.
     */
    public String degraded() {
        LinkSet l = links;
        return l == null ? null : l.degraded();
    }

    /** Waits up to {@code timeout} for an authenticated link; false on timeout or a fatal failure. */
    public boolean awaitUp(Duration timeout) throws InterruptedException {
        return awaitLinks(1, timeout);
    }

    /** Waits up to {@code timeout} until {@code n} links are up; false on timeout or a fatal failure. */
    public boolean awaitLinks(int n, Duration timeout) throws InterruptedException {
        LinkSet l = links;
        return l != null && l.awaitUp(n, timeout);
    }

    /** Completes exceptionally with an {@link AuthException} when authentication fails (not retried). */
    public CompletableFuture<Void> fatalFailure() {
        return fatal;
    }

    /** Closes the link and every listener and stops the event loops. Idempotent. */
    @Override
    public void close() {
        closed = true;
        if (group == null) {
            return;
        }
        if (links == null) { // start() failed before dialing
            if (outbound != null) {
                outbound.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
            return;
        }
        links.stop();
        tunnels.closeListeners();
        List<Link> up = links.links();
        for (Link l : up) {
            l.close(ErrorCode.SHUTDOWN, "client shutting down");
        }
        for (Link l : up) {
            l.channel().closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        // the resolver's sockets live on the loops: close them while the loops still run (an
        // io_uring socket closed by a stopped loop leaks the buffer of its pending read)
        outbound.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        group = null;
        if (vpn != null) {
            vpn.close(); // the device goes, and with it its addresses and routes
            vpn = null;
        }
    }
}
