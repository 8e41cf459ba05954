package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.sdt.codec.IpPrefix;
import io.sdt.core.tun.Checksums;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The VPN's packet checks, route lookups and ICMP too-big answers, on hand-built packets. */
class IpPacketsTest {

    /** An IPv4 packet of {@code total} bytes from {@code src} to {@code dst}, DF set, header checksum right. */
    static ByteBuf v4(int src, int dst, int total) {
        ByteBuf b = Unpooled.buffer(total);
        b.writeByte(0x45).writeByte(0).writeShort(total).writeShort(1).writeShort(0x4000)
                .writeByte(64).writeByte(17).writeShort(0).writeInt(src).writeInt(dst);
        b.writeZero(total - 20);
        b.setShort(10, Checksums.finish(Checksums.add(0, b, 0, 20)));
        return b;
    }

    static ByteBuf v6(byte[] src, byte[] dst, int payload) {
        ByteBuf b = Unpooled.buffer(40 + payload);
        b.writeInt(6 << 28).writeShort(payload).writeByte(17).writeByte(64).writeBytes(src).writeBytes(dst);
        b.writeZero(payload);
        return b;
    }

    private static final int A = IpPackets.v4(IpPrefix.parse("10.8.0.2").address());
    private static final int B = IpPackets.v4(IpPrefix.parse("10.88.0.1").address());

    @Test
    void wellFormedPacketsHaveTheirVersionAndBrokenOnesNone() {
        assertEquals(4, IpPackets.version(v4(A, B, 100)));
        byte[] s = IpPrefix.parse("fd00:8::2").address();
        byte[] d = IpPrefix.parse("fd00:88::1").address();
        assertEquals(6, IpPackets.version(v6(s, d, 60)));
        assertEquals(0, IpPackets.version(Unpooled.wrappedBuffer(new byte[10])), "too short");
        ByteBuf lying = v4(A, B, 100);
        lying.setShort(2, 200);
        assertEquals(0, IpPackets.version(lying), "total length says more than there is");
        ByteBuf shortHeader = v4(A, B, 100);
        shortHeader.setByte(0, 0x44);
        assertEquals(0, IpPackets.version(shortHeader), "IHL below 5");
        ByteBuf v5 = v4(A, B, 100);
        v5.setByte(0, 0x55);
        assertEquals(0, IpPackets.version(v5), "no IP version 5");
        ByteBuf six = v6(s, d, 60);
        six.setShort(4, 61);
        assertEquals(0, IpPackets.version(six), "payload length says more than there is");
    }

    @Test
    void networksMatchByPrefixOnBothFamilies() {
        Networks n = new Networks(List.of(IpPrefix.parse("10.88.0.0/24"), IpPrefix.parse("fd00:88::/64"),
                IpPrefix.parse("0.0.0.0/0")));
        assertTrue(n.containsV4(B));
        Networks only = new Networks(List.of(IpPrefix.parse("10.88.0.0/24"), IpPrefix.parse("fd00:88::/60")));
        assertTrue(only.containsV4(B));
        assertFalse(only.containsV4(A));
        byte[] in = IpPrefix.parse("fd00:88:0:f::9").address();
        byte[] out = IpPrefix.parse("fd00:88:0:10::9").address();
        assertTrue(only.containsV6(IpPackets.v6(in, 0), IpPackets.v6(in, 1)));
        assertFalse(only.containsV6(IpPackets.v6(out, 0), IpPackets.v6(out, 1)));
        assertFalse(new Networks(List.of()).containsV4(B), "no routes: nothing is routed");
    }

    @Test
    void theIcmpv4AnswerGoesBackToTheSenderWithTheMtuAndValidChecksums() {
        ByteBuf big = v4(A, B, 3000);
        int gateway = IpPackets.v4(IpPrefix.parse("10.8.0.1").address());
        ByteBuf icmp = IcmpTooBig.v4(UnpooledByteBufAllocator.DEFAULT, big, gateway, 1500);
        assertEquals(4, IpPackets.version(icmp));
        assertEquals(gateway, IpPackets.v4Source(icmp));
        assertEquals(A, IpPackets.v4Destination(icmp));
        assertEquals(0, Checksums.finish(Checksums.add(0, icmp, 0, 20)), "IPv4 header checksum");
        assertEquals(3, icmp.getUnsignedByte(20));
        assertEquals(4, icmp.getUnsignedByte(21));
        assertEquals(1500, icmp.getUnsignedShort(26), "next-hop MTU");
        assertEquals(0, Checksums.finish(Checksums.add(0, icmp, 20, icmp.readableBytes() - 20)), "ICMP checksum");
        assertEquals(big.getInt(12), icmp.getInt(28 + 12), "it quotes the offending header");
        big.release();
        icmp.release();
    }

    @Test
    void theIcmpv6AnswerCarriesTheMtuAndAPseudoHeaderChecksum() {
        byte[] s = IpPrefix.parse("fd00:8::2").address();
        byte[] d = IpPrefix.parse("fd00:88::1").address();
        byte[] g = IpPrefix.parse("fd00:8::1").address();
        ByteBuf big = v6(s, d, 3000);
        ByteBuf icmp = IcmpTooBig.v6(UnpooledByteBufAllocator.DEFAULT, big, IpPackets.v6(g, 0), IpPackets.v6(g, 1), 1500);
        assertEquals(6, IpPackets.version(icmp));
        assertTrue(icmp.readableBytes() <= 1280, "within the IPv6 minimum MTU");
        assertEquals(IpPackets.v6(s, 0), IpPackets.v6Destination(icmp, 0));
        assertEquals(IpPackets.v6(s, 1), IpPackets.v6Destination(icmp, 1));
        assertEquals(2, icmp.getUnsignedByte(40));
        assertEquals(1500, icmp.getInt(44));
        int len = icmp.readableBytes() - 40;
        long acc = Checksums.add(0, icmp, 8, 32);
        acc = Checksums.add(acc, len);
        acc += 58;
        acc = Checksums.add(acc, icmp, 40, len);
        assertEquals(0, Checksums.finish(acc), "ICMPv6 checksum over the pseudo-header");
        big.release();
        icmp.release();
    }
}
