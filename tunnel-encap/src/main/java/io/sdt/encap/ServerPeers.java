package io.sdt.encap;

import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * Server role (no endpoint-port): a segment read from the TUN goes to the peer whose generated address is
 * its destination; a datagram is accepted only from a peer with a live connection_store entry and enters the
 * TUN with the peer's generated address as source. Peers get entries by authenticating
 * ({@link #admit(Endpoint)}). Confined to the event loop.
 */
final class ServerPeers implements Peers {

    private final ConnectionStore store;
    private final Supplier<AddressPool> pool;
    private final UdpOut udp;
    private final TunStats stats;

    /** @param pool the current pool, or {@code null} while the TUN has no IPv4 address and no --pool was given */
    ServerPeers(ConnectionStore store, Supplier<AddressPool> pool, UdpOut udp, TunStats stats) {
        this.store = store;
        this.pool = pool;
        this.udp = udp;
        this.stats = stats;
    }

    /** Stores an authenticated peer; returns its generated address as text, or {@code null} if none is free. */
    String admit(Endpoint peer) {
        AddressPool p = pool.get();
        if (p == null) {
            return null;
        }
        ConnectionStore.Entry e = store.store(peer, p);
        return e == null ? null : Ipv4.toString(e.generated());
    }

    @Override
    public void fromTun(int destination, ByteBuf segment) {
        ConnectionStore.Entry e = store.lookup(destination);
        if (e == null) {
            segment.release();
            stats.discard(Discard.NO_ENTRY, Ipv4.toString(destination));
            return;
        }
        udp.send(segment, e.socketAddress());
    }

    @Override
    public int sourceFor(InetSocketAddress sender) {
        ConnectionStore.Entry e = store.lookup(Endpoint.of(sender));
        return e == null ? 0 : e.generated();
    }

    @Override
    public void tick() {
        store.cleanUp();
    }

    @Override
    public void close() {
    }
}
