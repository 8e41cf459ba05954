package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.HexFormat;

/**
 * Test packets and an independent, deliberately naive checksum (16-bit words, one at a time, as RFC 1071
 * describes it) to check the production code against.
 */
final class Packets {

    /**
     * A SYN captured from the Linux kernel through a TUN (10.1.2.3:40000 -> 10.1.2.4:8080, MSS 1460,
     * SACK, timestamps, window scale): both checksums were computed by the kernel, not by us.
     * IPv4 header checksum 0xe2cf, TCP checksum 0xa2cf.
     */
    static final String KERNEL_SYN = "4500003c3fe440004006e2cf0a0102030a0102049c401f9065682fe200000000a002faf0a2cf"
            + "0000020405b40402080a91d9af3f000000000103030a";

    private Packets() {
    }

    static byte[] hex(String h) {
        return HexFormat.of().parseHex(h);
    }

    static int ip(int a, int b, int c, int d) {
        return a << 24 | b << 16 | c << 8 | d;
    }

    /** Ones'-complement 16-bit sum, RFC 1071 style, over {@code bytes} (odd tail padded). */
    static int naiveSum(byte[] bytes, int initial) {
        int sum = initial;
        for (int i = 0; i < bytes.length; i += 2) {
            int hi = bytes[i] & 0xFF;
            int lo = i + 1 < bytes.length ? bytes[i + 1] & 0xFF : 0;
            sum += hi << 8 | lo;
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return sum;
    }

    /** Whether the TCP checksum inside {@code segment} is valid for the pseudo-header {@code src -> dst}. */
    static boolean tcpChecksumValid(byte[] segment, int src, int dst) {
        int pseudo = naiveSum(new byte[] {(byte) (src >>> 24), (byte) (src >>> 16), (byte) (src >>> 8), (byte) src,
                (byte) (dst >>> 24), (byte) (dst >>> 16), (byte) (dst >>> 8), (byte) dst,
                0, 6, (byte) (segment.length >>> 8), (byte) segment.length}, 0);
        return naiveSum(segment, pseudo) == 0xFFFF;
    }

    /** Whether a 20-byte IPv4 header's checksum is valid. */
    static boolean ipv4ChecksumValid(byte[] header) {
        return naiveSum(header, 0) == 0xFFFF;
    }

    static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), out);
        return out;
    }

    /**
     * An IPv4/TCP packet: 20-byte IPv4 header (valid checksum), 20-byte TCP header with ACK|PSH, the payload,
     * and a valid TCP checksum.
     */
    static ByteBuf tcpPacket(int src, int dst, byte[] payload) {
        ByteBuf seg = tcpSegment(src, dst, payload);
        ByteBuf p = Unpooled.directBuffer();
        Ipv4.writeHeader(p, src, dst, seg.readableBytes());
        p.writeBytes(seg);
        seg.release();
        return p;
    }

    /** A TCP segment (20-byte header, ports 40000 -> 8080) with a checksum valid for {@code src -> dst}. */
    static ByteBuf tcpSegment(int src, int dst, byte[] payload) {
        ByteBuf seg = Unpooled.directBuffer();
        seg.writeShort(40000).writeShort(8080).writeInt(0x01020304).writeInt(0x0a0b0c0d);
        seg.writeByte(5 << 4).writeByte(0x18).writeShort(65535).writeShort(0).writeShort(0);
        seg.writeBytes(payload);
        TcpSegment.rewriteChecksum(seg, src, dst);
        return seg;
    }
}
