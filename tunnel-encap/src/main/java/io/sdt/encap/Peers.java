package io.sdt.encap;

import io.netty.buffer.ByteBuf;

import java.net.InetSocketAddress;

/**
 * The role-specific half of the engine: where a segment read from the TUN goes, and which source address a
 * datagram from a peer gets in the TUN. {@link ServerPeers} uses the connection_store; {@link ClientPeers}
 * authenticates with each destination first. Confined to the event loop.
 */
interface Peers {

    /** Sends {@code segment} (owned by the callee from here on) towards {@code destination}, or discards it. */
    void fromTun(int destination, ByteBuf segment);

    /** The IPv4 source address for a datagram from {@code sender}, or 0 to discard it. */
    int sourceFor(InetSocketAddress sender);

    /** Periodic housekeeping (expiry, re-authentication). */
    void tick();

    /** Releases everything held. */
    void close();
}
