package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.sdt.core.tun.Offload;

import java.io.IOException;

/**
 * Receive offload for the TUN write (what GRO does in the kernel): consecutive TCP segments of one flow
 * that arrive in one UDP read burst are joined into one IPv4 super-segment of up to 64 KiB and written to
 * the device with one {@code write}, with a {@code virtio_net_hdr} asking the kernel to cut it again
 * (TCPv4 GSO, segment size = the first segment's payload). The kernel then sees the same segments it would
 * have been written one by one, with the same addresses and its own checksums; a local receiver takes the
 * super-segment whole.
 *
 * <p>Joined are only plain data segments, as Linux's {@code tcp_gro_receive} would join them: ACK (and PSH
 * on the last one) set and nothing else, a payload, the same addresses, ports, acknowledgment number,
 * window, header length and options bytes, the next sequence number, no payload larger than the first's.
 * A shorter payload or PSH ends a super-segment. Anything else (SYN, FIN, RST, URG, a gap, another flow) is
 * written on its own after what was pending. {@link #flush} at the end of every read burst: nothing waits
 * for later datagrams. Confined to the UDP channel's event loop.
 */
final class Coalescer {

    private static final int ACK = 0x10;
    private static final int PSH = 0x08;
    private static final int TCP = Offload.VNET_HEADER + Ipv4.HEADER_LENGTH;

    private final TunSink tun;
    private final TunStats stats;
    /** [virtio header][IPv4 header][TCP header][payload...] of the super-segment being built. */
    private final ByteBuf pending;
    /** A single segment's virtio header (zero: no offload) and IPv4 header. */
    private final ByteBuf single;
    private boolean active;
    private boolean ended;
    private int source;
    private int destination;
    private int tcpHeader;
    private int size;
    private int segments;
    private long nextSeq;

    Coalescer(TunSink tun, TunStats stats, ByteBufAllocator alloc) {
        this.tun = tun;
        this.stats = stats;
        this.pending = alloc.directBuffer(Offload.VNET_HEADER + Ipv4.MAX_PACKET, Offload.VNET_HEADER + Ipv4.MAX_PACKET);
        this.single = alloc.directBuffer(TCP, TCP);
    }

    /**
     * A checked TCP segment (its readable bytes) from {@code source} to {@code destination}: joined to the
     * pending super-segment, starting one, or written on its own. The segment stays the caller's.
     */
    void add(ByteBuf seg, int source, int destination) {
        int r = seg.readerIndex();
        int header = (seg.getUnsignedByte(r + 12) >> 4) * 4;
        int payload = seg.readableBytes() - header;
        int flags = seg.getUnsignedByte(r + 13);
        boolean data = payload > 0 && (flags & ~PSH) == ACK;
        if (active && !(data && joins(seg, source, destination, header, payload))) {
            flush();
        }
        if (!data) {
            writeSingle(seg, source, destination);
        } else if (active) {
            pending.writeBytes(seg, r + header, payload);
            nextSeq = nextSeq + payload & 0xFFFFFFFFL;
            segments++;
            if ((flags & PSH) != 0) {
                pending.setByte(TCP + 13, pending.getUnsignedByte(TCP + 13) | PSH);
            }
            ended = payload < size || (flags & PSH) != 0;
        } else {
            start(seg, source, destination, header, payload, flags);
        }
    }

    private boolean joins(ByteBuf seg, int source, int destination, int header, int payload) {
        int r = seg.readerIndex();
        return !ended && source == this.source && destination == this.destination && header == tcpHeader
                && payload <= size && pending.writerIndex() + payload <= pending.capacity()
                && seg.getUnsignedInt(r + 4) == nextSeq
                && seg.getInt(r) == pending.getInt(TCP) // ports
                && seg.getInt(r + 8) == pending.getInt(TCP + 8) // acknowledgment
                && seg.getShort(r + 14) == pending.getShort(TCP + 14) // window
                && ByteBufUtil.equals(seg, r + 20, pending, TCP + 20, header - 20); // options
    }

    private void start(ByteBuf seg, int source, int destination, int header, int payload, int flags) {
        pending.clear().writeZero(Offload.VNET_HEADER);
        Ipv4.writeHeader(pending, source, destination, seg.readableBytes()); // length and checksum: at flush
        pending.writeBytes(seg, seg.readerIndex(), seg.readableBytes());
        this.source = source;
        this.destination = destination;
        this.tcpHeader = header;
        this.size = payload;
        this.segments = 1;
        this.nextSeq = seg.getUnsignedInt(seg.readerIndex() + 4) + payload & 0xFFFFFFFFL;
        this.ended = (flags & PSH) != 0;
        this.active = true;
    }

    /** Writes what is pending: a lone segment as it is, several as one super-segment. */
    void flush() {
        if (!active) {
            return;
        }
        active = false;
        int ipLength = pending.writerIndex() - Offload.VNET_HEADER;
        int tcpLength = ipLength - Ipv4.HEADER_LENGTH;
        pending.setShort(Offload.VNET_HEADER + 2, ipLength);
        pending.setShort(Offload.VNET_HEADER + Ipv4.CHECKSUM_OFFSET,
                Checksums.ipv4Header(pending, Offload.VNET_HEADER, Ipv4.HEADER_LENGTH));
        if (segments == 1) {
            pending.setShort(TCP + TcpSegment.CHECKSUM_OFFSET, Checksums.tcp(pending, TCP, tcpLength, source, destination));
        } else {
            // the kernel cuts it and completes each segment's checksum from the pseudo-header sum left here
            long pseudo = Checksums.add(Checksums.add(Checksums.add(0, source), destination), tcpLength) + Ipv4.PROTO_TCP;
            pending.setShort(TCP + TcpSegment.CHECKSUM_OFFSET, ~Checksums.finish(pseudo) & 0xFFFF);
            pending.setByte(0, Offload.NEEDS_CSUM);
            pending.setByte(1, Offload.GSO_TCPV4);
            pending.setShortLE(2, Ipv4.HEADER_LENGTH + tcpHeader);
            pending.setShortLE(4, size);
            pending.setShortLE(6, Ipv4.HEADER_LENGTH);
            pending.setShortLE(8, TcpSegment.CHECKSUM_OFFSET);
        }
        int headers = TCP + tcpHeader;
        try {
            tun.write(pending.slice(0, headers), pending.slice(headers, pending.writerIndex() - headers));
            for (int i = 0; i < segments; i++) {
                stats.toTun();
            }
            if (segments > 1) {
                stats.superSegmentToTun();
            }
        } catch (IOException e) {
            stats.discard(Discard.TUN_WRITE_FAILED, e.getMessage());
        }
    }

    private void writeSingle(ByteBuf seg, int source, int destination) {
        TcpSegment.rewriteChecksum(seg, source, destination);
        single.clear().writeZero(Offload.VNET_HEADER);
        Ipv4.writeHeader(single, source, destination, seg.readableBytes());
        try {
            tun.write(single, seg);
            stats.toTun();
        } catch (IOException e) {
            stats.discard(Discard.TUN_WRITE_FAILED, e.getMessage());
        }
    }

    void release() {
        pending.release();
        single.release();
    }
}
