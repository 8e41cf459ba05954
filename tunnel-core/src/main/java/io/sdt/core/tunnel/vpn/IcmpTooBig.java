package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.sdt.core.tun.Checksums;

/**
 * What a router answers to a packet larger than the next hop's MTU (path MTU discovery): ICMPv4
 * "fragmentation needed and DF set" (type 3, code 4, RFC 1191) or ICMPv6 "packet too big" (type 2,
 * RFC 8201), from the VPN's gateway address to the packet's source, carrying the MTU and as much of the
 * offending packet as the rules allow (IPv4: its header and 8 bytes, RFC 792, here up to 548 bytes as RFC
 * 1812 permits; IPv6: up to the 1,280-byte minimum MTU). Stateless.
 */
final class IcmpTooBig {

    private static final int V4_QUOTE = 548;
    private static final int V6_QUOTE = 1280 - IpPackets.V6_HEADER - 8;

    private IcmpTooBig() {
    }

    /** The ICMPv4 answer to the IPv4 packet {@code p}, from {@code gateway}; a new buffer. */
    static ByteBuf v4(ByteBufAllocator alloc, ByteBuf p, int gateway, int mtu) {
        int quote = Math.min(p.readableBytes(), V4_QUOTE);
        int total = IpPackets.V4_HEADER + 8 + quote;
        ByteBuf b = alloc.directBuffer(total, total);
        b.writeByte(0x45).writeByte(0).writeShort(total)
                .writeShort(0).writeShort(0) // id, flags and fragment offset
                .writeByte(64).writeByte(1).writeShort(0) // TTL, protocol ICMP, checksum below
                .writeInt(gateway).writeInt(IpPackets.v4Source(p));
        b.setShort(10, Checksums.finish(Checksums.add(0, b, 0, IpPackets.V4_HEADER)));
        int icmp = b.writerIndex();
        b.writeByte(3).writeByte(4).writeShort(0).writeShort(0).writeShort(mtu);
        b.writeBytes(p, p.readerIndex(), quote);
        b.setShort(icmp + 2, Checksums.finish(Checksums.add(0, b, icmp, 8 + quote)));
        return b;
    }

    /** The ICMPv6 answer to the IPv6 packet {@code p}, from {@code gatewayHigh}:{@code gatewayLow}; a new buffer. */
    static ByteBuf v6(ByteBufAllocator alloc, ByteBuf p, long gatewayHigh, long gatewayLow, int mtu) {
        int quote = Math.min(p.readableBytes(), V6_QUOTE);
        int payload = 8 + quote;
        ByteBuf b = alloc.directBuffer(IpPackets.V6_HEADER + payload, IpPackets.V6_HEADER + payload);
        b.writeInt(6 << 28).writeShort(payload).writeByte(58).writeByte(64)
                .writeLong(gatewayHigh).writeLong(gatewayLow)
                .writeLong(IpPackets.v6Source(p, 0)).writeLong(IpPackets.v6Source(p, 1));
        int icmp = b.writerIndex();
        b.writeByte(2).writeByte(0).writeShort(0).writeInt(mtu);
        b.writeBytes(p, p.readerIndex(), quote);
        // RFC 8200 8.1: the pseudo-header is source, destination, upper-layer length and next header 58
        long acc = Checksums.add(0, b, 8, 32);
        acc = Checksums.add(acc, payload);
        acc += 58;
        acc = Checksums.add(acc, b, icmp, payload);
        b.setShort(icmp + 2, Checksums.finish(acc));
        return b;
    }
}
