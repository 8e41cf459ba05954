package io.sdt.core;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.proxy.ProxyHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.concurrent.Promise;
import io.sdt.codec.HostPort;
import io.sdt.core.link.AuthException;
import io.sdt.core.link.EgressProxy;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkHooks;
import io.sdt.core.link.LinkPipelines;
import io.sdt.core.link.WebSocketLink;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One link of a client to one of its servers, kept up: dials, and when the link cannot be made or drops, dials again
 * after the delay {@link Backoff} gives (within a second for the first minute of an outage, then doubling up
 * to {@code reconnectMax}; jittered).
 * A failed authentication is final: it completes the client's fatal future and dialing stops. Dials and
 * their outcomes run on the client's link loop; {@link #link()} and {@link #isUp()} may be called from any
 * thread. {@link LinkSet} keeps one per link.
 */
final class Dialer {

    private static final Logger log = LogManager.getLogger(Dialer.class);

    private final ClientConfig config;
    private final ClientConfig.Endpoint endpoint;
    private final SslContext ssl;
    /** The outer TLS of a wss:// link, or null. */
    private final SslContext outer;
    private final EventLoop loop;
    private final LinkPipelines pipelines;
    private final NodeStats stats;
    /** Told of a link that went down, on the link loop, before the next dial is scheduled. */
    private final Consumer<Link> linkDown;
    private final CompletableFuture<Void> fatal;
    /** Told when a link came up, dialing ended for good, or it stopped: whatever waits for a link looks again. */
    private final Runnable changed;
    private volatile Link link;
    private volatile boolean stopped;
    /** Since when no link is up (epoch milliseconds): the start, or the last link's loss. */
    private volatile long downSince = System.currentTimeMillis();
    /** Why the last dial or link failed, or {@code null}. */
    private volatile String problem;
    private final Backoff backoff;

    /**
     * @param outer the TLS of a {@code wss://} endpoint's WebSocket (null for others)
     * @param fatal completed exceptionally with the {@link AuthException} that ends the dialing
     */
    Dialer(ClientConfig config, ClientConfig.Endpoint endpoint, SslContext ssl, SslContext outer, EventLoop loop,
           NodeStats stats, LinkHooks hooks, Consumer<Link> linkDown, CompletableFuture<Void> fatal, Runnable changed) {
        this.config = config;
        this.endpoint = endpoint;
        this.ssl = ssl;
        this.outer = outer;
        this.changed = changed;
        this.loop = loop;
        this.stats = stats;
        this.pipelines = new LinkPipelines(config.token(), config.settings(), stats, hooks);
        this.linkDown = linkDown;
        this.fatal = fatal;
        this.backoff = new Backoff(config.reconnectMin(), config.reconnectMax());
    }

    /** Starts dialing (in the background). */
    void start() {
        loop.execute(this::connect);
    }

    /** The authenticated link now up, or {@code null}. */
    Link link() {
        return link;
    }

    boolean isUp() {
        Link l = link;
        return l != null && !l.isClosed();
    }

    /** Since when no link is up (epoch milliseconds); meaningless while one is. */
    long downSince() {
        return downSince;
    }

    /** Why the last dial or link failed, or {@code null} if none has. */
    String problem() {
        return problem;
    }

    /** The server this dialer keeps a link to. */
    ClientConfig.Endpoint endpoint() {
        return endpoint;
    }

    /** Dials no more; tells whoever waits for a link. The link itself is the caller's to close. */
    void stop() {
        stopped = true;
        changed.run();
    }

    private void connect() {
        if (stopped) {
            return;
        }
        EgressProxy proxy = endpoint.proxy();
        if (proxy != null && !proxy.address().isIpLiteral()) {
            // the proxy's name is looked up off the event loop (a blocking lookup), for every dial
            Thread.ofVirtual().name("sdt-proxy-lookup").start(() -> {
                InetSocketAddress at = new InetSocketAddress(proxy.address().host(), proxy.address().port());
                loop.execute(() -> dial(at));
            });
        } else {
            dial(proxy == null ? null : proxy.address().toSocketAddress());
        }
    }

    /** One dial, through the proxy at {@code proxyAt} (resolved; null without a proxy). */
    private void dial(InetSocketAddress proxyAt) {
        if (stopped) {
            return;
        }
        stats.linkDial();
        Promise<Link> result = loop.newPromise();
        HostPort server = endpoint.address();
        EgressProxy proxy = endpoint.proxy();
        if (proxy != null && proxyAt.isUnresolved()) {
            scheduleReconnect("cannot reach " + server + ": the proxy " + proxy + " does not resolve");
            return;
        }
        ChannelHandler pipeline = pipelines.client(ssl, server.host(), server.port(), result);
        ProxyHandler[] proxied = new ProxyHandler[1];
        WebSocketLink.Url ws = endpoint.webSocket();
        Bootstrap b = new Bootstrap().group(loop).channel(config.transport().socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.settings().connectTimeout().toMillis())
                .handler(proxy == null && ws == null ? pipeline : new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // first the proxy's handshake, then the WebSocket upgrade, then the link's TLS inside
                        if (proxy != null) {
                            proxied[0] = proxy.handler(proxyAt, config.settings().connectTimeout());
                            ch.pipeline().addLast(proxied[0]);
                        }
                        if (ws != null) {
                            WebSocketLink.client(ch.pipeline(), ws, outer, pipeline, config.settings().handshakeTimeout(),
                                    result);
                        } else {
                            ch.pipeline().addLast(pipeline);
                        }
                    }
                });
        if (proxy != null) {
            b.resolver(NoopAddressResolverGroup.INSTANCE); // the server's name is the proxy's to resolve
        }
        io.sdt.core.link.LinkSockets.client(b, config.transport().notSentLowat());
        b.connect(server.toSocketAddress()).addListener(f -> {
            if (!f.isSuccess()) {
                result.tryFailure(f.cause());
            }
        });
        result.addListener(f -> {
            if (f.isSuccess()) {
                Link up = result.getNow();
                backoff.reset();
                link = up;
                changed.run();
                log.info("{}: link up to {}{}", up, ws != null ? ws : server,
                        proxy == null ? "" : " through the proxy " + proxy);
                up.channel().closeFuture().addListener(x -> onLinkDown(up));
            } else if (f.cause() instanceof AuthException auth) {
                log.error("authentication with {} failed: {}; not retrying", server, auth.getMessage());
                fatal.completeExceptionally(auth);
                changed.run();
            } else if (proxy == null) {
                scheduleReconnect("cannot reach " + server + ": " + f.cause().getMessage());
            } else {
                // a refusing proxy first fails the TLS hello it held back, then its own handshake: report the
                // proxy's answer (e.g. 407), which is known once this turn of the loop is over
                loop.execute(() -> scheduleReconnect("cannot reach " + server + " through the proxy " + proxy + ": "
                        + proxyFailure(proxied[0], f.cause()).getMessage()));
            }
        });
    }

    private static Throwable proxyFailure(ProxyHandler proxied, Throwable linkFailure) {
        if (proxied != null && proxied.connectFuture().isDone() && !proxied.connectFuture().isSuccess()) {
            return proxied.connectFuture().cause();
        }
        return linkFailure;
    }

    private void onLinkDown(Link down) {
        if (link == down) {
            link = null;
            downSince = System.currentTimeMillis();
        }
        linkDown.accept(down);
        if (!stopped) {
            scheduleReconnect("link to " + endpoint + " lost");
        }
    }

    private void scheduleReconnect(String why) {
        if (stopped || loop.isShuttingDown()) {
            return;
        }
        problem = why;
        long delay = backoff.next(System.nanoTime(), ThreadLocalRandom.current()::nextLong);
        log.warn("{}; reconnecting in {} ms (attempt {})", why, delay, backoff.attempts());
        loop.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }
}
