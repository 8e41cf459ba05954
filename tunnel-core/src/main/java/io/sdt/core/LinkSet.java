package io.sdt.core;

import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkHooks;
import io.sdt.core.link.TlsSetup;
import io.sdt.core.metrics.NodeStats;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Every link of one client: for each server ({@code --server}, repeatable) {@code --links} of them, each
 * kept up by its own {@link Dialer}. As the {@code Supplier<Link>} of the client's ingresses, {@link #get()}
 * places a new channel on the link that carries the fewest now (ties go round in turn), so a server that
 * dies takes only the channels it carried and the next channel goes to one still up; a server that comes
 * back gets new channels first, as it carries none. Each server's remote listeners are asked for on one of
 * its links, the {@link Server#binder()}.
 *
 * <p>All links live on the client's one link loop (its UDP and push ingresses rely on that); {@link #get()},
 * {@link #up()} and {@link #awaitUp} may be called from any thread.
 */
final class LinkSet implements Supplier<Link> {

    /**
     * The links to one server.
     *
     * @param endpoint where they go
     * @param dialers  one per link
     */
    static final class Server {
        private final ClientConfig.Endpoint endpoint;
        private final List<Dialer> dialers = new ArrayList<>();
        /** The link that carries this server's remote listeners (their BINDs); link loop only. */
        private Link binder;

        private Server(ClientConfig.Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        ClientConfig.Endpoint endpoint() {
            return endpoint;
        }

        /** The link holding this server's remote listeners, or {@code null}. Link loop only. */
        Link binder() {
            return binder != null && !binder.isClosed() ? binder : null;
        }

        /** True if {@code up}, just up, is to ask for the remote listeners: no other link of this server has. */
        boolean claimBinder(Link up) {
            if (binder() != null) {
                return false;
            }
            binder = up;
            return true;
        }

        /**
         * {@code down} went down: if it held the remote listeners, another link of this server that is up takes
         * them over (returned; it is to ask for them), or none is left ({@code null}).
         */
        Link released(Link down) {
            if (binder != down) {
                return null;
            }
            binder = null;
            for (Dialer d : dialers) {
                Link l = d.link();
                if (l != null && l != down && !l.isClosed()) {
                    binder = l;
                    return l;
                }
            }
            return null;
        }

        int linksUp() {
            return (int) dialers.stream().filter(Dialer::isUp).count();
        }
    }

    private final List<Server> servers = new ArrayList<>();
    private final Dialer[] all;
    private final AtomicInteger turn = new AtomicInteger();
    private final Object upLock = new Object();
    private final CompletableFuture<Void> fatal;

    /**
     * @param hooks    the hooks of the links to one server
     * @param linkDown told, on the link loop, of a link that went down and the server it went to
     */
    LinkSet(ClientConfig config, SslContext ssl, EventLoop loop, NodeStats stats, Function<Server, LinkHooks> hooks,
            BiConsumer<Server, Link> linkDown, CompletableFuture<Void> fatal) {
        this.fatal = fatal;
        List<Dialer> dialers = new ArrayList<>();
        for (ClientConfig.Endpoint e : config.servers()) {
            Server s = new Server(e);
            SslContext outer = outerTls(config, e);
            LinkHooks h = hooks.apply(s);
            for (int i = 0; i < config.links(); i++) {
                Dialer d = new Dialer(config, e, ssl, outer, loop, stats, h, down -> linkDown.accept(s, down), fatal,
                        this::changed);
                s.dialers.add(d);
                dialers.add(d);
            }
            servers.add(s);
        }
        this.all = dialers.toArray(Dialer[]::new);
    }

    private static SslContext outerTls(ClientConfig config, ClientConfig.Endpoint e) {
        if (e.webSocket() == null || !e.webSocket().secure()) {
            return null;
        }
        try {
            return TlsSetup.webSocketClient(config.tls().webSocketCaFile());
        } catch (java.io.IOException x) {
            throw new IllegalArgumentException("--ws-ca: " + x.getMessage(), x);
        }
    }

    /** The servers, in configuration order. */
    List<Server> servers() {
        return servers;
    }

    void start() {
        for (Dialer d : all) {
            d.start();
        }
    }

    /** Dials no more; wakes {@link #awaitUp} waiters. The links are the caller's to close ({@link #links()}). */
    void stop() {
        for (Dialer d : all) {
            d.stop();
        }
    }

    /**
     * The link for a new channel: of the links up, the one with the fewest channels; ties go round in turn.
     * {@code null} while none is up.
     */
    @Override
    public Link get() {
        if (all.length == 1) {
            return all[0].link();
        }
        int start = Math.floorMod(turn.getAndIncrement(), all.length);
        Link best = null;
        int fewest = Integer.MAX_VALUE;
        for (int i = 0; i < all.length; i++) {
            Link l = all[(start + i) % all.length].link();
            if (l != null && !l.isClosed()) {
                int n = l.channelCount(); // read off the link's loop: a recent count is all placement needs
                if (n < fewest) {
                    best = l;
                    fewest = n;
                }
            }
        }
        return best;
    }

    /** The links now up. */
    List<Link> links() {
        List<Link> up = new ArrayList<>();
        for (Dialer d : all) {
            Link l = d.link();
            if (l != null && !l.isClosed()) {
                up.add(l);
            }
        }
        return up;
    }

    /** Every link this client keeps, up or down, by server in configuration order. */
    List<LinkView> views() {
        List<LinkView> out = new ArrayList<>(all.length);
        for (Server s : servers) {
            for (Dialer d : s.dialers) {
                Link l = d.link();
                out.add(l != null && !l.isClosed() ? LinkView.of(s.endpoint().toString(), l)
                        : new LinkView(s.endpoint().toString(), null, false, d.downSince(), -1, 0, d.problem()));
            }
        }
        return out;
    }

    /** How many links are up. */
    int up() {
        int n = 0;
        for (Dialer d : all) {
            n += d.isUp() ? 1 : 0;
        }
        return n;
    }

    /** How many links this client keeps (servers x links per server). */
    int wanted() {
        return all.length;
    }

    /**
     * Null while every link is up (or none is: that is down, not degraded); otherwise which are down, e.g.
     * {@code "1 of 2 links down (b.example:7000)"}.
     */
    String degraded() {
        int up = up();
        if (up == 0 || up == all.length) {
            return null;
        }
        List<String> down = servers.stream().filter(s -> s.linksUp() < s.dialers.size())
                .map(s -> s.endpoint().toString()).toList();
        return (all.length - up) + " of " + all.length + " links down (" + String.join(", ", down) + ")";
    }

    /** Waits up to {@code timeout} until at least {@code n} links are up; false on timeout or a fatal failure. */
    boolean awaitUp(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (upLock) {
            while (up() < n && !fatal.isDone()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                upLock.wait(Math.max(1, left / 1_000_000));
            }
        }
        return up() >= n;
    }

    private void changed() {
        synchronized (upLock) {
            upLock.notifyAll();
        }
    }
}
