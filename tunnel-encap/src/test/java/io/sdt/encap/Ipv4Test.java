package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sdt.core.testing.LeakGuard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;

import static io.sdt.encap.Packets.bytes;
import static io.sdt.encap.Packets.hex;
import static io.sdt.encap.Packets.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Header build and strip, and checksums against vectors computed elsewhere (kernel, by hand). */
@ExtendWith(LeakGuard.class)
class Ipv4Test {

    @Test
    void ipv4HeaderChecksumOfTheClassicExample() {
        // the worked example of the IPv4 header checksum (Wikipedia "Internet checksum"): 0xb861
        ByteBuf h = Unpooled.wrappedBuffer(hex("450000730000400040110000c0a80001c0a800c7"));
        assertEquals(0xb861, Checksums.ipv4Header(h, 0, 20));
        h.release();
    }

    @Test
    void checksumsOfAKernelSynAreReproduced() {
        byte[] syn = hex(Packets.KERNEL_SYN);
        ByteBuf p = Unpooled.wrappedBuffer(syn.clone());
        assertEquals(0xe2cf, Checksums.ipv4Header(p, 0, 20));
        p.setShort(20 + TcpSegment.CHECKSUM_OFFSET, 0x1234); // garbage: must be ignored
        assertEquals(0xa2cf, Checksums.tcp(p, 20, 40, ip(10, 1, 2, 3), ip(10, 1, 2, 4)));
        p.release();
    }

    @Test
    void writeHeaderMatchesAHandComputedHeader() {
        // 45 00 003c 0000 4000 40 06 csum 0a580007 0a580001; sum of words = 0xd9fa, so csum = ~0xd9fa = 0x2605
        ByteBuf out = Unpooled.buffer();
        Ipv4.writeHeader(out, ip(10, 88, 0, 7), ip(10, 88, 0, 1), 40);
        assertArrayEquals(hex("4500003c000040004006" + "2605" + "0a5800070a580001"), bytes(out));
        out.release();
    }

    @Test
    void stripLeavesExactlyTheSegmentAndCutsTrailingBytes() {
        byte[] syn = hex(Packets.KERNEL_SYN);
        ByteBuf p = Unpooled.buffer();
        p.writeBytes(syn).writeBytes(new byte[] {9, 9, 9}); // bytes beyond the IPv4 total length
        assertNull(Ipv4.check(p));
        assertEquals(ip(10, 1, 2, 4), Ipv4.destination(p));
        assertEquals(ip(10, 1, 2, 3), Ipv4.source(p));
        Ipv4.strip(p);
        assertArrayEquals(Arrays.copyOfRange(syn, 20, 60), bytes(p));
        p.release();
    }

    @Test
    void rewrittenSegmentIsValidForTheNewPseudoHeader() {
        byte[] syn = hex(Packets.KERNEL_SYN);
        byte[] seg = Arrays.copyOfRange(syn, 20, 60);
        assertTrue(Packets.tcpChecksumValid(seg, ip(10, 1, 2, 3), ip(10, 1, 2, 4)), "kernel vector sanity");
        ByteBuf b = Unpooled.wrappedBuffer(seg.clone());
        int src = ip(10, 88, 0, 77);
        int dst = ip(10, 88, 0, 1);
        TcpSegment.rewriteChecksum(b, src, dst);
        byte[] rewritten = bytes(b);
        assertTrue(Packets.tcpChecksumValid(rewritten, src, dst));
        assertTrue(!Packets.tcpChecksumValid(rewritten, ip(10, 1, 2, 3), ip(10, 1, 2, 4)));
        // nothing but the checksum field changed
        Arrays.fill(rewritten, 16, 18, (byte) 0);
        Arrays.fill(seg, 16, 18, (byte) 0);
        assertArrayEquals(seg, rewritten);
        b.release();
    }

    @Test
    void oddLengthSegmentsAndEveryAlignmentAreSummedCorrectly() {
        for (int len = 0; len < 40; len++) {
            byte[] payload = new byte[len];
            for (int i = 0; i < len; i++) {
                payload[i] = (byte) (0xF0 + i * 37);
            }
            ByteBuf seg = Packets.tcpSegment(ip(192, 168, 255, 254), ip(10, 0, 0, 1), payload);
            assertTrue(Packets.tcpChecksumValid(bytes(seg), ip(192, 168, 255, 254), ip(10, 0, 0, 1)), "length " + len);
            seg.release();
        }
    }

    @Test
    void builtHeaderIsValidAndCarriesTheRightFields() {
        ByteBuf out = Unpooled.buffer();
        Ipv4.writeHeader(out, ip(1, 2, 3, 4), ip(5, 6, 7, 8), 1380);
        byte[] h = bytes(out);
        assertTrue(Packets.ipv4ChecksumValid(h));
        assertEquals(0x45, h[0] & 0xFF);
        assertEquals(1400, out.getUnsignedShort(2));
        assertEquals(6, h[9]);
        assertEquals(64, h[8]);
        assertEquals(0x4000, out.getUnsignedShort(6)); // DF, offset 0
        out.release();
    }
}
