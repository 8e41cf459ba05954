package io.sdt.encap;

import io.netty.buffer.ByteBuf;

/**
 * The checksums of the encapsulation's IPv4 and TCP headers, on the Internet checksum of
 * {@link io.sdt.core.tun.Checksums}. Stateless; never changes reader or writer indexes.
 */
final class Checksums {

    private Checksums() {
    }

    static long add(long acc, ByteBuf buf, int index, int length) {
        return io.sdt.core.tun.Checksums.add(acc, buf, index, length);
    }

    static long add(long acc, int value) {
        return io.sdt.core.tun.Checksums.add(acc, value);
    }

    static int finish(long acc) {
        return io.sdt.core.tun.Checksums.finish(acc);
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
