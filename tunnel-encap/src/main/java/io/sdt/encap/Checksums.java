package io.sdt.encap;

import io.netty.buffer.ByteBuf;

/**
 * The Internet checksum (RFC 1071): the ones'-complement of the ones'-complement sum of 16-bit
 * big-endian words. Summing 32-bit words and folding gives the same result (RFC 1071 §2), which halves
 * the loop count. Stateless; never changes reader or writer indexes.
 */
final class Checksums {

    private Checksums() {
    }

    /** Adds {@code length} bytes of {@code buf} from {@code index} to {@code acc}; an odd tail is zero-padded. */
    static long add(long acc, ByteBuf buf, int index, int length) {
        int i = index;
        int end = index + length;
        for (; i + 4 <= end; i += 4) {
            acc += buf.getUnsignedInt(i);
        }
        if (i + 2 <= end) {
            acc += buf.getUnsignedShort(i);
            i += 2;
        }
        if (i < end) {
            acc += buf.getUnsignedByte(i) << 8;
        }
        return acc;
    }

    /** Adds a 32-bit value (an IPv4 address) as two 16-bit words. */
    static long add(long acc, int value) {
        return acc + (value >>> 16) + (value & 0xFFFF);
    }

    /** Folds a sum to 16 bits and complements it: the value to store in a checksum field. */
    static int finish(long acc) {
        while ((acc >>> 16) != 0) {
            acc = (acc & 0xFFFF) + (acc >>> 16);
        }
        return (int) (~acc & 0xFFFF);
    }

    /** The checksum of the IPv4 header at {@code index} with its checksum field counted as zero. */
    static int ipv4Header(ByteBuf buf, int index, int headerLength) {
        long acc = add(0, buf, index, headerLength);
        acc -= buf.getUnsignedShort(index + Ipv4.CHECKSUM_OFFSET); // the sum includes it, so stays >= 0
        return finish(acc);
    }

    /**
     * The TCP checksum of the segment at {@code index} (RFC 9293 §3.1: pseudo-header of source, destination,
     * zero, protocol 6 and TCP length), with the segment's own checksum field counted as zero.
     */
    static int tcp(ByteBuf buf, int index, int length, int src, int dst) {
        long acc = add(0, src);
        acc = add(acc, dst);
        acc += Ipv4.PROTO_TCP;
        acc += length;
        acc = add(acc, buf, index, length);
        acc -= buf.getUnsignedShort(index + TcpSegment.CHECKSUM_OFFSET);
        return finish(acc);
    }
}
