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
 * A node that dials a server ({@code sdt client}) and runs local ({@code -L}) and remote
 * ({@code -R}) forwards over the link. Local listeners are bound at start and stay bound; while the
 * link is down their connections are closed at once. The {@link Dialer} keeps the link up; when it
 * comes back the client asks for its remote listeners again ({@link ClientHooks}).
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
    private Dialer dialer;

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
        ClientHooks hooks = new ClientHooks(new ClientHooks.Context(stats, outbound, tunnels, () -> exitPolicy,
                () -> draining, vpn));
        dialer = new Dialer(config, ssl, linkLoop, stats, hooks, down -> tunnels.linkDown(), fatal);
        try {
            tunnels.listenAll(new IngressContext(group, linkLoop, config.transport(), dialer::link, config.ticker(),
                    false, RouterSettings.of(config.proxyAuth(), config.transport().datagramChannel()), routerStats,
                    stats));
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot listen: " + e.getMessage(), e);
        }
        dialer.start();
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
            loop.execute(() -> {
                Link up = dialer.link();
                if (up != null && !up.isClosed()) {
                    tunnels.unbindAll(up);
                }
            });
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

    /** The VPN device's addresses now (empty without {@code --vpn} or before the server's grant). */
    public java.util.List<io.sdt.codec.IpPrefix> vpnAddresses() {
        VpnClient v = vpn;
        return v == null ? java.util.List.of() : v.addresses();
    }

    public ClientConfig config() {
        return config;
    }

    /** True while an authenticated link is up. */
    public boolean isUp() {
        Dialer d = dialer;
        return d != null && d.isUp();
    }

    /** Waits up to {@code timeout} for an authenticated link; false on timeout or a fatal failure. */
    public boolean awaitUp(Duration timeout) throws InterruptedException {
        Dialer d = dialer;
        return d != null && d.awaitUp(timeout);
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
        if (dialer == null) { // start() failed before dialing
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
            return;
        }
        dialer.stop();
        tunnels.closeListeners();
        Link l = dialer.link();
        if (l != null) {
            l.close(ErrorCode.SHUTDOWN, "client shutting down");
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
