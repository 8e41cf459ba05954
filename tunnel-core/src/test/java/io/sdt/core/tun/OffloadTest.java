package io.sdt.core.tun;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.sdt.core.testing.LeakGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The offload header and the software fallback for a receiver without offloads: super-segments cut into
 * packets whose every length, sequence number, flag and checksum is what the kernel's own segmentation
 * would give (each checksum is verified from scratch here), and bad headers from a peer refused.
 */
@ExtendWith(LeakGuard.class)
public class OffloadTest {

    private static final byte[] SRC4 = {10, 8, 0, 2};
    private static final byte[] DST4 = {10, 88, 0, 1};
    private static final byte[] SRC6 = {(byte) 0xfd, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    private static final byte[] DST6 = {(byte) 0xfd, 0, 0, (byte) 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    private static final int ACK = 0x10;
    private static final int PSH = 0x08;
    private static final int FIN = 0x01;
    private static final int CWR = 0x80;

    /** An IPv4 TCP super-segment in wire form from {@code src} to {@code dst}. */
    public static ByteBuf superSegment(byte[] src, byte[] dst, byte[] payload, int gsoSize) {
        ByteBuf b = superSegment(4, 0, payload, gsoSize, 1, ACK);
        b.setBytes(Offload.VNET_HEADER + 12, src);
        b.setBytes(Offload.VNET_HEADER + 16, dst);
        return b;
    }

    /** A TCP super-segment in wire form: header, IP, TCP with {@code options} bytes of options, payload. */
    static ByteBuf superSegment(int version, int options, byte[] payload, int gsoSize, long seq, int flags) {
        int ipHeader = version == 4 ? 20 : 40;
        int tcpHeader = 20 + options;
        int total = ipHeader + tcpHeader + payload.length;
        ByteBuf b = Unpooled.buffer();
        b.writeByte(Offload.NEEDS_CSUM).writeByte(version == 4 ? Offload.GSO_TCPV4 : Offload.GSO_TCPV6)
                .writeShort(ipHeader + tcpHeader).writeShort(gsoSize).writeShort(ipHeader).writeShort(16);
        ip(b, version, 6, total);
        b.writeShort(40000).writeShort(80).writeInt((int) seq).writeInt(777).writeByte((tcpHeader / 4) << 4)
                .writeByte(flags).writeShort(65535).writeShort(0xBEEF /* a partial sum: cut recomputes it */)
                .writeShort(0);
        for (int i = 0; i < options; i++) {
            b.writeByte(1); // NOP
        }
        return b.writeBytes(payload);
    }

    private static void ip(ByteBuf b, int version, int protocol, int total) {
        if (version == 4) {
            b.writeByte(0x45).writeByte(0).writeShort(total).writeShort(0xFFFE).writeShort(0x4000).writeByte(64)
                    .writeByte(protocol).writeShort(0).writeBytes(SRC4).writeBytes(DST4);
        } else {
            b.writeInt(0x60000000).writeShort(total - 40).writeByte(protocol).writeByte(64).writeBytes(SRC6)
                    .writeBytes(DST6);
        }
    }

    private static List<ByteBuf> cut(ByteBuf p) {
        List<ByteBuf> out = new ArrayList<>();
        Offload.toPlain(p, ByteBufAllocator.DEFAULT, out::add);
        return out;
    }

    /** The checksum over the pseudo-header and the transport segment at {@code at}: 0 if it is right. */
    private static int verify(ByteBuf s, int version, int protocol, int at) {
        int length = s.readableBytes() - at;
        long acc = version == 4 ? Checksums.add(0, s, 12, 8) : Checksums.add(0, s, 8, 32);
        acc = Checksums.add(Checksums.add(acc, length), protocol);
        return Checksums.finish(Checksums.add(acc, s, at, length));
    }

    private static void assertCutLikeTheKernel(int version, int options) {
        byte[] payload = new byte[3500];
        new Random(version * 31 + options).nextBytes(payload);
        int ipHeader = version == 4 ? 20 : 40;
        int headers = ipHeader + 20 + options;
        long seq = 0xFFFFFA00L; // wraps within the super-segment
        ByteBuf p = superSegment(version, options, payload, 1448, seq, ACK | PSH | FIN | CWR);
        assertNull(Offload.invalid(p, version));
        assertEquals(headers + 1448, Offload.segmentLength(p));
        List<ByteBuf> segments = cut(p);
        try {
            assertEquals(3, segments.size(), "1448 + 1448 + 604");
            ByteBuf joined = Unpooled.buffer();
            for (int i = 0; i < 3; i++) {
                ByteBuf s = segments.get(i);
                int n = i < 2 ? 1448 : 604;
                assertEquals(headers + n, s.readableBytes());
                if (version == 4) {
                    assertEquals(headers + n, s.getUnsignedShort(2), "IPv4 total length");
                    assertEquals((0xFFFE + i) & 0xFFFF, s.getUnsignedShort(4), "IPv4 id counts up, wrapping");
                    assertEquals(0, Checksums.finish(Checksums.add(0, s, 0, 20)), "IPv4 header checksum");
                } else {
                    assertEquals(headers + n - 40, s.getUnsignedShort(4), "IPv6 payload length");
                }
                assertEquals((int) (seq + 1448L * i), s.getInt(ipHeader + 4), "sequence number");
                int flags = s.getUnsignedByte(ipHeader + 13);
                assertEquals(i == 2, (flags & (FIN | PSH)) == (FIN | PSH), "FIN and PSH on the last only: " + flags);
                assertEquals(i == 0, (flags & CWR) != 0, "CWR on the first only");
                assertTrue((flags & ACK) != 0);
                assertEquals(0, verify(s, version, 6, ipHeader), "TCP checksum of segment " + i);
                for (int o = 0; o < options; o++) {
                    assertEquals(1, s.getUnsignedByte(ipHeader + 20 + o), "options copied");
                }
                joined.writeBytes(s, headers, n);
            }
            byte[] back = new byte[joined.readableBytes()];
            joined.readBytes(back);
            assertArrayEquals(payload, back, "the payload, in order, nothing lost or doubled");
        } finally {
            p.release();
            segments.forEach(ByteBuf::release);
        }
    }

    @Test
    void anIpv4SuperSegmentIsCutLikeTheKernelCutsIt() {
        assertCutLikeTheKernel(4, 0);
        assertCutLikeTheKernel(4, 12); // timestamps: 12 bytes of options
    }

    @Test
    void anIpv6SuperSegmentIsCutLikeTheKernelCutsIt() {
        assertCutLikeTheKernel(6, 0);
        assertCutLikeTheKernel(6, 12);
    }

    @Test
    void aSuperSegmentOfOneSegmentOrOfHeadersOnlyStaysOnePacket() {
        ByteBuf small = superSegment(4, 0, new byte[100], 1448, 5, ACK | FIN);
        ByteBuf empty = superSegment(4, 0, new byte[0], 1448, 5, ACK | FIN);
        List<ByteBuf> a = cut(small);
        List<ByteBuf> b = cut(empty);
        try {
            assertEquals(1, a.size());
            assertEquals(140, a.getFirst().readableBytes());
            assertEquals(FIN, a.getFirst().getUnsignedByte(33) & FIN, "the only segment is the last: FIN kept");
            assertEquals(0, verify(a.getFirst(), 4, 6, 20));
            assertEquals(1, b.size());
            assertEquals(0, verify(b.getFirst(), 4, 6, 20));
        } finally {
            small.release();
            empty.release();
            a.forEach(ByteBuf::release);
            b.forEach(ByteBuf::release);
        }
    }

    @Test
    void aPendingChecksumIsCompleted() {
        // UDP, checksum field holding the folded pseudo-header sum, as the kernel leaves it
        byte[] data = "a datagram whose checksum the device left to us".getBytes();
        int udpLength = 8 + data.length;
        ByteBuf p = Unpooled.buffer();
        p.writeByte(Offload.NEEDS_CSUM).writeByte(Offload.GSO_NONE).writeShort(0).writeShort(0).writeShort(20)
                .writeShort(6);
        ip(p, 4, 17, 20 + udpLength);
        long pseudo = Checksums.add(Checksums.add(Checksums.add(0, p, 10 + 12, 8), udpLength), 17);
        int partial = ~Checksums.finish(pseudo) & 0xFFFF;
        p.writeShort(5353).writeShort(53).writeShort(udpLength).writeShort(partial).writeBytes(data);
        assertNull(Offload.invalid(p, 4));
        assertEquals(20 + udpLength, Offload.segmentLength(p));
        List<ByteBuf> out = cut(p);
        try {
            assertEquals(1, out.size());
            ByteBuf s = out.getFirst();
            assertEquals(20 + udpLength, s.readableBytes(), "the header is gone");
            assertEquals(0x45, s.getUnsignedByte(0));
            assertEquals(0, verify(s, 4, 17, 20), "a valid UDP checksum");
        } finally {
            p.release();
            out.forEach(ByteBuf::release);
        }
    }

    @Test
    void theDevicesHeaderBecomesTheWireFormAndBack() {
        ByteBuf plain = Unpooled.buffer().writeZero(Offload.VNET_HEADER);
        ip(plain, 4, 6, 40);
        plain.writeZero(20);
        assertFalse(Offload.fromDevice(plain), "no offload: no header");
        assertEquals(0x45, plain.getUnsignedByte(plain.readerIndex()));
        ByteBuf valid = Unpooled.buffer().writeByte(Offload.DATA_VALID).writeZero(Offload.VNET_HEADER - 1);
        assertFalse(Offload.fromDevice(valid), "a checksum the kernel verified needs nothing either");

        ByteBuf gso = Unpooled.buffer().writeByte(Offload.NEEDS_CSUM).writeByte(Offload.GSO_TCPV4)
                .writeShortLE(52).writeShortLE(1448).writeShortLE(20).writeShortLE(16);
        assertTrue(Offload.fromDevice(gso));
        assertTrue(Offload.marked(gso));
        assertEquals(1448, gso.getUnsignedShort(4), "network order on the wire");
        assertEquals(20, gso.getUnsignedShort(6));
        assertEquals(16, gso.getUnsignedShort(8));
        Offload.toDevice(gso);
        assertEquals(1448, gso.getUnsignedShortLE(4), "the device's order again");
        plain.release();
        valid.release();
        gso.release();
    }

    @Test
    void badHeadersFromAPeerAreRefusedWithAReason() {
        byte[] payload = new byte[3000];
        ByteBuf ok = superSegment(4, 0, payload, 1448, 1, ACK);
        try {
            assertNull(Offload.invalid(ok, 4));
            assertNotNull(Offload.invalid(ok, 6), "a TCPv4 super-segment around an IPv6 packet");
            assertRefused(ok, 0, 0x05, "unknown flags");
            assertRefused(ok, 1, Offload.GSO_TCPV6, "the wrong GSO type for the packet");
            assertRefused(ok, 1, 3, "UFO, which nobody should send");
            assertRefused(ok, 0, 0, "no NEEDS_CSUM on a super-segment");
            ByteBuf zero = ok.copy();
            zero.setShort(4, 0);
            assertNotNull(Offload.invalid(zero, 4), "segment size 0");
            zero.setShort(4, 2);
            assertNotNull(Offload.invalid(zero, 4), "1500 segments of 2 bytes");
            zero.setShort(4, 1448);
            zero.setShort(8, 6);
            assertNotNull(Offload.invalid(zero, 4), "checksum not at the TCP field");
            zero.setShort(8, 16);
            zero.setShort(6, 0xFFF0);
            assertNotNull(Offload.invalid(zero, 4), "checksum start beyond the packet");
            zero.setShort(6, 20);
            zero.setByte(10 + 9, 17);
            assertNotNull(Offload.invalid(zero, 4), "a super-segment of UDP");
            zero.release();
            ByteBuf nothing = Unpooled.buffer().writeZero(Offload.VNET_HEADER);
            ip(nothing, 4, 6, 40);
            nothing.writeZero(20);
            assertNotNull(Offload.invalid(nothing, 4), "a header that announces nothing");
            nothing.release();
        } finally {
            ok.release();
        }
    }

    private static void assertRefused(ByteBuf ok, int flags, int gso, String what) {
        ByteBuf p = ok.copy();
        p.setByte(0, flags);
        p.setByte(1, gso);
        try {
            assertNotNull(Offload.invalid(p, 4), what);
        } finally {
            p.release();
        }
    }
}
