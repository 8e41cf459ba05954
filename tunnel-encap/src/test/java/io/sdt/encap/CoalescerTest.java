package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.tun.Offload;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.sdt.encap.Packets.ip;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Segments joined for the TUN write: what the kernel gets back when it cuts a super-segment (here cut by
 * {@link Offload#toPlain}, which follows the kernel's rules and is tested against them) must be, byte for
 * byte apart from the IPv4 id, the packets the one-by-one path writes; and only segments that Linux's GRO
 * would join are joined.
 */
@ExtendWith(LeakGuard.class)
class CoalescerTest {

    private static final int SRC = ip(10, 88, 0, 2);
    private static final int DST = ip(10, 88, 0, 1);
    private static final int ACK = 0x10;
    private static final int PSH = 0x08;
    private static final int SYN = 0x02;

    private final List<byte[]> written = new ArrayList<>();
    private final TunStats stats = new TunStats();
    private final Coalescer coalescer = new Coalescer((header, segment) -> {
        byte[] all = new byte[header.readableBytes() + segment.readableBytes()];
        header.getBytes(header.readerIndex(), all, 0, header.readableBytes());
        segment.getBytes(segment.readerIndex(), all, header.readableBytes(), segment.readableBytes());
        written.add(all);
    }, stats, ByteBufAllocator.DEFAULT);
    private final List<ByteBuf> segments = new ArrayList<>();

    @AfterEach
    void release() {
        coalescer.release();
        segments.forEach(ByteBuf::release);
    }

    /** A TCP segment, ports 40000 -> 8080, ack 0x0a0b0c0d, window 65535, a timestamp option, some checksum. */
    private ByteBuf segment(long seq, int flags, int payload, int port) {
        ByteBuf seg = Unpooled.directBuffer();
        seg.writeShort(port).writeShort(8080).writeInt((int) seq).writeInt(0x0a0b0c0d);
        seg.writeByte(8 << 4).writeByte(flags).writeShort(65535).writeShort(0x1234).writeShort(0);
        seg.writeInt(0x0101080a).writeInt(7).writeInt(9); // NOP NOP TS 7 9
        byte[] data = new byte[payload];
        new Random(seq).nextBytes(data);
        seg.writeBytes(data);
        segments.add(seg);
        return seg;
    }

    /** What the one-by-one path writes for {@code seg}: a zero virtio header, IPv4 header, the segment. */
    private static byte[] single(ByteBuf seg) {
        ByteBuf s = seg.copy();
        TcpSegment.rewriteChecksum(s, SRC, DST);
        ByteBuf p = Unpooled.buffer().writeZero(Offload.VNET_HEADER);
        Ipv4.writeHeader(p, SRC, DST, s.readableBytes());
        p.writeBytes(s);
        s.release();
        byte[] b = Packets.bytes(p);
        p.release();
        return b;
    }

    /** A written super-segment cut as the kernel cuts it, each packet with a zero virtio header in front. */
    private static List<byte[]> cutByTheKernel(byte[] superSegment) {
        ByteBuf p = Unpooled.wrappedBuffer(superSegment.clone());
        assertTrue(Offload.fromDevice(p), "a super-segment has a header");
        assertEquals(null, Offload.invalid(p, 4));
        List<byte[]> out = new ArrayList<>();
        Offload.toPlain(p, ByteBufAllocator.DEFAULT, s -> {
            byte[] b = new byte[Offload.VNET_HEADER + s.readableBytes()];
            s.getBytes(s.readerIndex(), b, Offload.VNET_HEADER, s.readableBytes());
            out.add(b);
            s.release();
        });
        p.release();
        return out;
    }

    private static byte[] withoutIpId(byte[] packet) {
        byte[] b = packet.clone();
        int ip = Offload.VNET_HEADER;
        b[ip + 4] = b[ip + 5] = b[ip + 10] = b[ip + 11] = 0; // id and header checksum: the kernel counts ids up
        return b;
    }

    @Test
    void consecutiveSegmentsBecomeOneSuperSegmentThatCutsIntoTheSamePackets() {
        List<ByteBuf> in = new ArrayList<>();
        long seq = 0xFFFFF000L; // wraps on the way
        for (int i = 0; i < 5; i++) {
            in.add(segment(seq, i == 4 ? ACK | PSH : ACK, i == 4 ? 700 : 1000, 40000));
            seq = seq + (i == 4 ? 700 : 1000) & 0xFFFFFFFFL;
        }
        in.forEach(s -> coalescer.add(s, SRC, DST));
        coalescer.flush();
        assertEquals(1, written.size(), "one write for five segments");
        byte[] w = written.getFirst();
        ByteBuf h = Unpooled.wrappedBuffer(w);
        assertEquals(Offload.NEEDS_CSUM, h.getUnsignedByte(0));
        assertEquals(Offload.GSO_TCPV4, h.getUnsignedByte(1));
        assertEquals(20 + 32, h.getUnsignedShortLE(2), "hdr_len: IPv4 and TCP headers");
        assertEquals(1000, h.getUnsignedShortLE(4), "gso_size: the first segment's payload");
        assertEquals(20, h.getUnsignedShortLE(6));
        assertEquals(16, h.getUnsignedShortLE(8));
        assertEquals(20 + 32 + 4700, h.getUnsignedShort(Offload.VNET_HEADER + 2), "IPv4 total length");
        assertTrue(Packets.ipv4ChecksumValid(Arrays.copyOfRange(w, 10, 30)));
        assertEquals(5, stats.snapshot().get("to_tun"));
        assertEquals(1, stats.snapshot().get("super_segments_to_tun"));

        List<byte[]> cut = cutByTheKernel(w);
        assertEquals(5, cut.size());
        for (int i = 0; i < 5; i++) {
            byte[] expected = single(in.get(i));
            assertArrayEquals(withoutIpId(expected), withoutIpId(cut.get(i)), "segment " + i);
            assertTrue(Packets.tcpChecksumValid(Arrays.copyOfRange(cut.get(i), 30, cut.get(i).length), SRC, DST));
        }
    }

    @Test
    void onlySegmentsGroWouldJoinAreJoined() {
        coalescer.add(segment(1000, ACK, 1000, 40000), SRC, DST);
        coalescer.add(segment(3000, ACK, 1000, 40000), SRC, DST);  // a gap: 2000 is missing
        coalescer.add(segment(4000, ACK, 1000, 40001), SRC, DST);  // another flow
        coalescer.add(segment(5000, ACK, 1200, 40001), SRC, DST);  // seq 5000 follows, but larger than the first
        coalescer.add(segment(6200, SYN | ACK, 0, 40001), SRC, DST); // not plain data: alone
        coalescer.add(segment(7000, ACK, 500, 40002), SRC, DST);
        coalescer.add(segment(7500, ACK, 500, 40002), SRC, DST);
        coalescer.add(segment(8000, ACK, 400, 40002), SRC, DST);   // shorter: joins and ends it
        coalescer.add(segment(8400, ACK, 400, 40002), SRC, DST);   // so this one starts anew
        coalescer.flush();
        assertEquals(7, written.size(), "the gap, the flow, the size and the SYN each cut; 7000-8399 is one");
        for (int i = 0; i < written.size(); i++) {
            byte[] w = written.get(i);
            if (w[1] == 0) { // a single packet: zero virtio header, complete checksums
                assertEquals(0, w[0]);
                assertTrue(Packets.ipv4ChecksumValid(Arrays.copyOfRange(w, 10, 30)));
                assertTrue(Packets.tcpChecksumValid(Arrays.copyOfRange(w, 30, w.length), SRC, DST), "write " + i);
            }
        }
        byte[] joined = written.get(5);
        assertEquals(Offload.GSO_TCPV4, joined[1]);
        assertEquals(3, cutByTheKernel(joined).size());
        assertEquals(0, written.get(6)[1], "8400 alone");
    }

    @Test
    void aSuperSegmentStopsShortOf64KiB() {
        long seq = 1;
        for (int i = 0; i < 70; i++) {
            coalescer.add(segment(seq, ACK, 1000, 40000), SRC, DST);
            seq += 1000;
        }
        coalescer.flush();
        assertEquals(2, written.size());
        assertEquals(20 + 32 + 65_000, Unpooled.wrappedBuffer(written.get(0)).getUnsignedShort(Offload.VNET_HEADER + 2),
                "65 segments: a 66th would pass 65,535 bytes");
        assertEquals(5, cutByTheKernel(written.get(1)).size());
        assertEquals(70, stats.snapshot().get("to_tun"));
    }
}
