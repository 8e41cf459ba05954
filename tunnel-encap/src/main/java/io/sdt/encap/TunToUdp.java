package io.sdt.encap;

import io.netty.buffer.ByteBuf;

import java.util.function.Consumer;

/**
 * Packets read from the TUN: applies the discard rules ({@link Ipv4#check}), strips the IPv4 header and
 * hands the TCP segment and its destination address to the role's {@link Peers}. Confined to the event
 * loop; takes ownership of every packet (releases it or passes it on).
 */
final class TunToUdp implements Consumer<ByteBuf> {

    private final Peers peers;
    private final TunStats stats;

    TunToUdp(Peers peers, TunStats stats) {
        this.peers = peers;
        this.stats = stats;
    }

    @Override
    public void accept(ByteBuf packet) {
        stats.fromTun();
        Discard d = Ipv4.check(packet);
        if (d != null) {
            stats.discard(d, new Summary(packet));
            packet.release();
            return;
        }
        int destination = Ipv4.destination(packet);
        Ipv4.strip(packet);
        peers.fromTun(destination, packet);
    }

    /** The first bytes of a discarded packet, formatted only if logged. */
    private record Summary(String text) {
        Summary(ByteBuf p) {
            this(p.readableBytes() + " bytes, version " + (p.isReadable() ? p.getUnsignedByte(p.readerIndex()) >> 4 : -1)
                    + (p.readableBytes() >= 10 ? ", protocol " + p.getUnsignedByte(p.readerIndex() + 9) : ""));
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
