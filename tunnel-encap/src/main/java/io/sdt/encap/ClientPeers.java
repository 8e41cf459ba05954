package io.sdt.encap;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Client role (endpoint-port given): a segment read from the TUN goes to its destination address at
 * endpoint-port, once this client has authenticated with that destination. Until then up to
 * {@link #QUEUE_LIMIT} segments wait (bounded; the rest are discarded); after a failure segments are
 * discarded until the retry time (backoff 1 s doubling to 30 s). Authentication is repeated after
 * {@link #REAUTH_AFTER}, before the server's 5-minute entry expires. Datagrams are accepted only from
 * (destination, endpoint-port) of a destination authenticated within the last 5 minutes. Destinations
 * unused for 5 minutes are forgotten; at most {@link #MAX_DESTINATIONS} are kept.
 *
 * <p>Confined to the event loop: the table's maintenance runs on the calling thread and the
 * authenticator's futures complete on the loop. Queued segments are released when sent, discarded or
 * evicted.
 */
final class ClientPeers implements Peers {

    private static final Logger log = LogManager.getLogger(ClientPeers.class);
    static final Duration VALID_FOR = ConnectionStore.EXPIRY;
    static final Duration REAUTH_AFTER = Duration.ofMinutes(4);
    static final int QUEUE_LIMIT = 32;
    static final int MAX_DESTINATIONS = 256;
    private static final long NEVER = Long.MIN_VALUE;
    private static final long FIRST_BACKOFF = Duration.ofSeconds(1).toNanos();
    private static final long MAX_BACKOFF = Duration.ofSeconds(30).toNanos();

    /** Runs one authentication exchange with a server; the future completes on the event loop. */
    interface Authenticator {
        Future<Void> authenticate(InetSocketAddress server);
    }

    private final int endpointPort;
    private final Authenticator authenticator;
    private final UdpOut udp;
    private final TunStats stats;
    private final Ticker ticker;
    private final Cache<Integer, Destination> table;

    /** One destination: its auth state and the segments waiting for it. */
    private final class Destination {
        final int address;
        final InetSocketAddress target;
        final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
        long authenticatedAt = NEVER;
        long retryAt = NEVER;
        long backoff = FIRST_BACKOFF;
        boolean inFlight;
        boolean gone;

        Destination(int address) {
            this.address = address;
            this.target = new InetSocketAddress(Ipv4.toAddress(address), endpointPort);
        }

        boolean valid(long now) {
            return authenticatedAt != NEVER && now - authenticatedAt < VALID_FOR.toNanos();
        }

        void drain(Discard reason) {
            for (ByteBuf b; (b = queue.poll()) != null; ) {
                b.release();
                stats.discard(reason, target);
            }
        }
    }

    ClientPeers(int endpointPort, Authenticator authenticator, UdpOut udp, TunStats stats, Ticker ticker) {
        this.endpointPort = endpointPort;
        this.authenticator = authenticator;
        this.udp = udp;
        this.stats = stats;
        this.ticker = ticker;
        this.table = Caffeine.newBuilder().ticker(ticker).executor(Runnable::run)
                .expireAfterAccess(VALID_FOR).maximumSize(MAX_DESTINATIONS)
                .removalListener((Integer a, Destination d, RemovalCause cause) -> {
                    if (d != null) {
                        d.gone = true;
                        d.drain(Discard.DESTINATION_EVICTED);
                    }
                })
                .build();
    }

    @Override
    public void fromTun(int destination, ByteBuf segment) {
        Destination d = table.get(destination, Destination::new);
        long now = ticker.read();
        if (d.valid(now)) {
            udp.send(segment, d.target);
            if (now - d.authenticatedAt >= REAUTH_AFTER.toNanos()) {
                start(d);
            }
            return;
        }
        if (!d.inFlight && d.retryAt != NEVER && now - d.retryAt < 0) {
            segment.release();
            stats.discard(Discard.AUTH_FAILED, d.target);
            return;
        }
        if (d.queue.size() >= QUEUE_LIMIT) {
            segment.release();
            stats.discard(Discard.AUTH_QUEUE_FULL, d.target);
        } else {
            d.queue.add(segment);
        }
        start(d);
    }

    private void start(Destination d) {
        if (d.inFlight) {
            return;
        }
        d.inFlight = true;
        authenticator.authenticate(d.target).addListener(f -> done(d, f));
    }

    private void done(Destination d, Future<?> f) {
        d.inFlight = false;
        long now = ticker.read();
        if (f.isSuccess()) {
            stats.authSucceeded();
            if (d.authenticatedAt == NEVER) {
                log.info("authenticated with {}", d.target);
            } else {
                log.debug("re-authenticated with {}", d.target);
            }
            d.authenticatedAt = now;
            d.backoff = FIRST_BACKOFF;
            d.retryAt = NEVER;
            for (ByteBuf b; (b = d.queue.poll()) != null; ) {
                udp.send(b, d.target);
            }
            udp.flush();
        } else {
            stats.authFailed();
            d.retryAt = now + d.backoff;
            log.info("authentication with {} failed: {}; retry in {} s", d.target, f.cause().getMessage(),
                    d.backoff / 1_000_000_000L);
            d.backoff = Math.min(d.backoff * 2, MAX_BACKOFF);
            d.drain(Discard.AUTH_FAILED);
        }
        if (d.gone) {
            d.drain(Discard.DESTINATION_EVICTED);
        }
    }

    @Override
    public int sourceFor(InetSocketAddress sender) {
        if (sender.getPort() != endpointPort) {
            return 0;
        }
        int address = Ipv4.toInt(sender.getAddress());
        Destination d = table.getIfPresent(address);
        return d != null && d.valid(ticker.read()) ? address : 0;
    }

    @Override
    public void tick() {
        table.cleanUp();
        long now = ticker.read();
        for (Destination d : table.asMap().values()) {
            if (d.valid(now) && now - d.authenticatedAt >= REAUTH_AFTER.toNanos()) {
                start(d);
            }
        }
    }

    @Override
    public void close() {
        table.invalidateAll();
        table.cleanUp();
    }

    /** Number of destinations known (for tests). */
    long destinations() {
        table.cleanUp();
        return table.estimatedSize();
    }
}
