package io.sdt.encap;

import io.netty.buffer.ByteBuf;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The IPv4 side of the encapsulation: which packets read from the TUN may be carried (the spec's discard
 * rules), and the 20-byte header put in front of a TCP segment before it is written to the TUN. Addresses
 * are big-endian ints. Stateless; methods read at the buffer's reader index and do not move it unless
 * they say so.
 */
final class Ipv4 {

    static final int HEADER_LENGTH = 20;
    static final int PROTO_TCP = 6;
    static final int CHECKSUM_OFFSET = 10;
    static final int SRC_OFFSET = 12;
    static final int DST_OFFSET = 16;
    static final int MAX_PACKET = 65535;
    /** TTL of the headers we build: the Linux default. */
    static final int TTL = 64;
    private static final int DONT_FRAGMENT = 0x4000;
    private static final int FRAGMENT_MASK = 0x3FFF; // MF flag and offset

    private Ipv4() {
    }

    /**
     * Why the packet in {@code p} (reader index to writer index, as read from the TUN) may not be sent, or
     * {@code null} if it is an unfragmented IPv4 TCP packet with a 20-byte header and a plausible TCP header.
     */
    static Discard check(ByteBuf p) {
        int r = p.readerIndex();
        int n = p.readableBytes();
        if (n < 1 || (p.getUnsignedByte(r) >> 4) != 4) {
            return Discard.NOT_IPV4;
        }
        if (n < HEADER_LENGTH) {
            return Discard.MALFORMED_IP;
        }
        int ihl = (p.getUnsignedByte(r) & 0x0F) * 4;
        if (ihl < HEADER_LENGTH) {
            return Discard.MALFORMED_IP;
        }
        if (p.getUnsignedByte(r + 9) != PROTO_TCP) {
            return Discard.NOT_TCP;
        }
        if (ihl > HEADER_LENGTH) {
            return Discard.IP_OPTIONS;
        }
        int total = p.getUnsignedShort(r + 2);
        if (total > n || total < HEADER_LENGTH) {
            return Discard.MALFORMED_IP;
        }
        if ((p.getUnsignedShort(r + 6) & FRAGMENT_MASK) != 0) {
            return Discard.FRAGMENT;
        }
        return TcpSegment.check(p, r + HEADER_LENGTH, total - HEADER_LENGTH);
    }

    static int source(ByteBuf p) {
        return p.getInt(p.readerIndex() + SRC_OFFSET);
    }

    static int destination(ByteBuf p) {
        return p.getInt(p.readerIndex() + DST_OFFSET);
    }

    /**
     * Strips the IPv4 header of a packet that passed {@link #check}: afterwards the readable bytes are
     * exactly the TCP segment (any bytes after the IPv4 total length are cut off).
     */
    static void strip(ByteBuf p) {
        int r = p.readerIndex();
        int total = p.getUnsignedShort(r + 2);
        p.writerIndex(r + total);
        p.readerIndex(r + HEADER_LENGTH);
    }

    /**
     * Writes a 20-byte IPv4 header for a TCP payload of {@code payloadLength} bytes at the writer index of
     * {@code out}: version 4, IHL 5, TOS 0, identification 0 with DF set (RFC 6864 atomic datagram),
     * TTL 64, protocol TCP, header checksum computed.
     */
    static void writeHeader(ByteBuf out, int src, int dst, int payloadLength) {
        int start = out.writerIndex();
        out.writeByte(0x45);
        out.writeByte(0);
        out.writeShort(HEADER_LENGTH + payloadLength);
        out.writeShort(0);
        out.writeShort(DONT_FRAGMENT);
        out.writeByte(TTL);
        out.writeByte(PROTO_TCP);
        out.writeShort(0);
        out.writeInt(src);
        out.writeInt(dst);
        out.setShort(start + CHECKSUM_OFFSET, Checksums.ipv4Header(out, start, HEADER_LENGTH));
    }

    static int toInt(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: " + a);
        }
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }

    static Inet4Address toAddress(int a) {
        try {
            return (Inet4Address) InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16),
                    (byte) (a >>> 8), (byte) a});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static String toString(int a) {
        return (a >>> 24) + "." + ((a >>> 16) & 0xFF) + "." + ((a >>> 8) & 0xFF) + "." + (a & 0xFF);
    }
}
