package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.sdt.core.tun.Offload;

/**
 * The few facts of an IP packet the VPN routes on: its version, whether its lengths hold together, its
 * source and destination. IPv4 addresses are ints, IPv6 addresses pairs of longs (high, low), so a packet
 * is routed without allocating. Packets are in their wire form ({@link Offload}): the IP packet starts at
 * the reader index, or after the offload header if there is one. Stateless; never changes reader or
 * writer indexes.
 */
final class IpPackets {

    static final int V4_HEADER = 20;
    static final int V6_HEADER = 40;
    private static final int V4_SRC = 12;
    private static final int V4_DST = 16;
    private static final int V6_SRC = 8;
    private static final int V6_DST = 24;

    private IpPackets() {
    }

    /**
     * The IP version of the packet in {@code p} (4 or 6) if its headers hold together: long enough for its
     * header, an IPv4 header length of at least 20 bytes, and a total (IPv4) or payload (IPv6) length that
     * matches the bytes there are; and an offload header, if there is one, that {@link Offload#invalid}
     * accepts. 0 otherwise (malformed: drop it).
     */
    static int version(ByteBuf p) {
        int v = ipVersion(p);
        return v != 0 && Offload.marked(p) && Offload.invalid(p, v) != null ? 0 : v;
    }

    private static int ipVersion(ByteBuf p) {
        int at = ip(p);
        int n = p.writerIndex() - at;
        if (n < V4_HEADER) {
            return 0;
        }
        int first = p.getUnsignedByte(at);
        switch (first >>> 4) {
            case 4 -> {
                int ihl = (first & 0x0F) * 4;
                int total = p.getUnsignedShort(at + 2);
                return ihl >= V4_HEADER && total >= ihl && total == n ? 4 : 0;
            }
            case 6 -> {
                return n >= V6_HEADER && p.getUnsignedShort(at + 4) + V6_HEADER == n ? 6 : 0;
            }
            default -> {
                return 0;
            }
        }
    }

    /** Where the IP packet starts: at the reader index, or after the offload header. */
    static int ip(ByteBuf p) {
        return p.readerIndex() + (Offload.marked(p) ? Offload.VNET_HEADER : 0);
    }

    static int v4Source(ByteBuf p) {
        return p.getInt(ip(p) + V4_SRC);
    }

    static int v4Destination(ByteBuf p) {
        return p.getInt(ip(p) + V4_DST);
    }

    /** High (0) or low (1) half of the IPv6 source. */
    static long v6Source(ByteBuf p, int half) {
        return p.getLong(ip(p) + V6_SRC + 8 * half);
    }

    /** High (0) or low (1) half of the IPv6 destination. */
    static long v6Destination(ByteBuf p, int half) {
        return p.getLong(ip(p) + V6_DST + 8 * half);
    }

    /** True if an IPv4 packet says Don't Fragment. */
    static boolean dontFragment(ByteBuf p) {
        return (p.getUnsignedByte(ip(p) + 6) & 0x40) != 0;
    }

    /** The IPv4 address in 4 big-endian bytes as an int. */
    static int v4(byte[] a) {
        return (a[0] & 0xFF) << 24 | (a[1] & 0xFF) << 16 | (a[2] & 0xFF) << 8 | (a[3] & 0xFF);
    }

    /** Half {@code half} (0: high) of the IPv6 address in 16 big-endian bytes. */
    static long v6(byte[] a, int half) {
        long v = 0;
        for (int i = 8 * half; i < 8 * half + 8; i++) {
            v = v << 8 | (a[i] & 0xFF);
        }
        return v;
    }
}
