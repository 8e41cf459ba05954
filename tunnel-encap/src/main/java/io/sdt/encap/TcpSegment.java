package io.sdt.encap;

import io.netty.buffer.ByteBuf;

/**
 * A TCP segment as carried in a UDP payload: its plausibility check and the checksum rewrite needed
 * because the receiving side writes it under different pseudo-header addresses than the sender's.
 * Stateless.
 */
final class TcpSegment {

    static final int MIN_HEADER = 20;
    static final int CHECKSUM_OFFSET = 16;
    /** Largest segment that still fits an IPv4 packet with a 20-byte header. */
    static final int MAX_LENGTH = Ipv4.MAX_PACKET - Ipv4.HEADER_LENGTH;

    private TcpSegment() {
    }

    /** Why the {@code length} bytes at {@code index} are not a TCP segment we can carry, or {@code null}. */
    static Discard check(ByteBuf buf, int index, int length) {
        if (length < MIN_HEADER || length > MAX_LENGTH) {
            return Discard.MALFORMED_TCP;
        }
        int dataOffset = (buf.getUnsignedByte(index + 12) >> 4) * 4;
        if (dataOffset < MIN_HEADER || dataOffset > length) {
            return Discard.MALFORMED_TCP;
        }
        return null;
    }

    /** Recomputes the checksum of the readable segment in place for the pseudo-header {@code src -> dst}. */
    static void rewriteChecksum(ByteBuf seg, int src, int dst) {
        int r = seg.readerIndex();
        seg.setShort(r + CHECKSUM_OFFSET, Checksums.tcp(seg, r, seg.readableBytes(), src, dst));
    }
}
