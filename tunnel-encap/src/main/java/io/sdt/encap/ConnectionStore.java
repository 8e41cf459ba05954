package io.sdt.encap;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The spec's "connection_store" (server role): one entry per authenticated peer (saddr, sport) holding the
 * IPv4 address generated for it. An entry not stored again for {@link #EXPIRY} is removed (Caffeine
 * {@code expireAfterWrite}; the client re-authenticates before that). A reverse map finds the entry from a
 * generated address, which is how packets read from the TUN find their peer.
 *
 * <p>Confined to the engine's event loop: Caffeine runs its maintenance and removal listener on the
 * calling thread ({@code executor(Runnable::run)}), so the reverse map needs no lock. Time comes from the
 * injected {@link Ticker}.
 */
final class ConnectionStore {

    /** How long an entry lives after it was last stored. */
    static final Duration EXPIRY = Duration.ofMinutes(5);

    /** One peer: its UDP endpoint, the address generated for it, and the socket address to send to. */
    record Entry(Endpoint peer, int generated, InetSocketAddress socketAddress) {
        @Override
        public String toString() {
            return peer + " -> " + Ipv4.toString(generated);
        }
    }

    private final Cache<Endpoint, Entry> byPeer;
    private final Map<Integer, Endpoint> byGenerated = new HashMap<>();

    ConnectionStore(Ticker ticker, long maxEntries) {
        byPeer = Caffeine.newBuilder()
                .ticker(ticker)
                .executor(Runnable::run)
                .expireAfterWrite(EXPIRY)
                .maximumSize(maxEntries)
                .removalListener((Endpoint peer, Entry e, RemovalCause cause) -> {
                    if (cause != RemovalCause.REPLACED && e != null) {
                        byGenerated.remove(e.generated(), peer);
                    }
                })
                .build();
    }

    /**
     * Stores {@code peer}: refreshes its entry (keeping its address) or creates one with an address from
     * {@code pool}.
     *
     * @return the entry, or {@code null} if the pool has no free address
     */
    Entry store(Endpoint peer, AddressPool pool) {
        Entry current = byPeer.getIfPresent(peer);
        if (current == null) {
            byPeer.cleanUp(); // expired entries release their addresses before we pick one
            int address = pool.allocate(peer, a -> lookup(a) != null);
            if (address == 0) {
                return null;
            }
            current = new Entry(peer, address, peer.socketAddress());
            byGenerated.put(address, peer);
        }
        byPeer.put(peer, current);
        return current;
    }

    /** The live entry of a peer, or {@code null}. */
    Entry lookup(Endpoint peer) {
        return byPeer.getIfPresent(peer);
    }

    /** The live entry whose generated address is {@code generated}, or {@code null}. */
    Entry lookup(int generated) {
        Endpoint peer = byGenerated.get(generated);
        if (peer == null) {
            return null;
        }
        Entry e = byPeer.getIfPresent(peer);
        return e != null && e.generated() == generated ? e : null;
    }

    /** Removes expired entries now (and frees their addresses); the engine calls it periodically. */
    void cleanUp() {
        byPeer.cleanUp();
    }

    long size() {
        byPeer.cleanUp();
        return byPeer.estimatedSize();
    }

    /** How many generated addresses are reserved (for tests: must equal {@link #size()} after cleanUp). */
    int reserved() {
        return byGenerated.size();
    }
}
