package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.sdt.core.tun.Offload;

import java.util.function.Consumer;

/**
 * Packets read from the TUN: applies the discard rules ({@link Ipv4#check}), strips the IPv4 header and
 * hands the TCP segment and its destination address to the role's {@link Peers}. Confined to the event
 * loop; takes ownership of every packet (releases it or passes it on).
 */
final class TunToUdp implements Consumer<ByteBuf> {

    private final Peers peers;
    private final TunStats stats;
    private final ByteBufAllocator alloc;

    TunToUdp(Peers peers, TunStats stats) {
        this(peers, stats, ByteBufAllocator.DEFAULT);
    }

    TunToUdp(Peers peers, TunStats stats, ByteBufAllocator alloc) {
        this.peers = peers;
        this.stats = stats;
        this.alloc = alloc;
    }

    /**
     * A read from a device opened with the virtio header: a TCP super-segment is cut into its segments
     * here (the wire carries one TCP segment per datagram, as the specification says), a pending checksum
     * completed; each packet then goes through {@link #accept}.
     */
    void acceptWithHeader(ByteBuf read) {
        if (read.readableBytes() <= Offload.VNET_HEADER) {
            stats.fromTun();
            stats.discard(Discard.MALFORMED_IP, read.readableBytes() + " bytes");
            read.release();
            return;
        }
        if (!Offload.fromDevice(read)) {
            accept(read);
            return;
        }
        int version = read.getUnsignedByte(read.readerIndex() + Offload.VNET_HEADER) >> 4;
        if (version != 4) { // the discard rules say what it is
            accept(read.skipBytes(Offload.VNET_HEADER));
            return;
        }
        String bad = Offload.invalid(read, 4);
        if (bad != null) {
            stats.fromTun();
            stats.discard(Discard.MALFORMED_IP, bad);
            read.release();
            return;
        }
        if (Offload.gsoType(read) != Offload.GSO_NONE) {
            stats.superSegmentFromTun();
        }
        try {
            Offload.toPlain(read, alloc, this);
        } finally {
            read.release();
        }
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
