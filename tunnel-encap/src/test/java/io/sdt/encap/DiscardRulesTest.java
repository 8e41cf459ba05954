package io.sdt.encap;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.sdt.core.testing.LeakGuard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static io.sdt.encap.Packets.bytes;
import static io.sdt.encap.Packets.hex;
import static io.sdt.encap.Packets.ip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spec's discard rules in both directions, each counted; nothing leaks. */
@ExtendWith(LeakGuard.class)
class DiscardRulesTest {

    private final TunStats stats = new TunStats();
    private final List<ByteBuf> routed = new ArrayList<>();
    private final List<Integer> destinations = new ArrayList<>();
    private int knownSource = ip(10, 88, 0, 9);
    private int tunAddress = ip(10, 88, 0, 1);
    private final List<byte[]> written = new ArrayList<>();

    private final Peers peers = new Peers() {
        @Override
        public void fromTun(int destination, ByteBuf segment) {
            destinations.add(destination);
            routed.add(segment);
        }

        @Override
        public int sourceFor(InetSocketAddress sender) {
            return sender.getPort() == 5000 ? knownSource : 0;
        }

        @Override
        public void tick() {
        }

        @Override
        public void close() {
        }
    };

    @AfterEach
    void release() {
        routed.forEach(ByteBuf::release);
    }

    /** Feeds one packet read from the TUN; returns the single reason counted, or null if it was routed. */
    private Discard fromTun(ByteBuf packet) {
        long[] before = new long[Discard.values().length];
        for (Discard d : Discard.values()) {
            before[d.ordinal()] = stats.discarded(d);
        }
        int routedBefore = routed.size();
        new TunToUdp(peers, stats).accept(packet);
        if (routed.size() > routedBefore) {
            return null;
        }
        assertEquals(0, packet.refCnt(), "a discarded packet is released");
        Discard found = null;
        for (Discard d : Discard.values()) {
            if (stats.discarded(d) > before[d.ordinal()]) {
                assertNull(found, "one reason per packet");
                found = d;
            }
        }
        return found;
    }

    private static ByteBuf packet(String hexText) {
        return Unpooled.wrappedBuffer(hex(hexText));
    }

    @Test
    void ipv6IsNotIpv4() {
        assertEquals(Discard.NOT_IPV4, fromTun(packet("6000000000083afffe800000000000000000000000000001ff020000000000000000000000000002")));
        assertEquals(1, stats.discarded(Discard.NOT_IPV4));
    }

    @Test
    void udpIsNotTcp() {
        ByteBuf p = Packets.tcpPacket(ip(1, 1, 1, 1), ip(2, 2, 2, 2), new byte[8]);
        p.setByte(9, 17);
        assertEquals(Discard.NOT_TCP, fromTun(p));
    }

    @Test
    void ipOptionsAreDiscarded() {
        ByteBuf seg = Packets.tcpSegment(ip(1, 1, 1, 1), ip(2, 2, 2, 2), new byte[0]);
        ByteBuf p = Unpooled.buffer();
        p.writeBytes(hex("46000030000040004006000001010101020202020101" + "0000")); // IHL 6: 4 option bytes
        p.writeBytes(seg);
        seg.release();
        assertEquals(Discard.IP_OPTIONS, fromTun(p));
    }

    @Test
    void fragmentsAreDiscarded() {
        ByteBuf p = Packets.tcpPacket(ip(1, 1, 1, 1), ip(2, 2, 2, 2), new byte[8]);
        p.setShort(6, 0x2000); // MF
        assertEquals(Discard.FRAGMENT, fromTun(p));
    }

    @Test
    void truncatedPacketsAreMalformed() {
        ByteBuf p = Packets.tcpPacket(ip(1, 1, 1, 1), ip(2, 2, 2, 2), new byte[8]);
        p.writerIndex(p.writerIndex() - 1);
        assertEquals(Discard.MALFORMED_IP, fromTun(p));
        assertEquals(Discard.MALFORMED_IP, fromTun(packet("4500")));
    }

    @Test
    void badTcpDataOffsetIsMalformed() {
        ByteBuf p = Packets.tcpPacket(ip(1, 1, 1, 1), ip(2, 2, 2, 2), new byte[0]);
        p.setByte(20 + 12, 0xF0); // data offset 60 > 20-byte segment
        assertEquals(Discard.MALFORMED_TCP, fromTun(p));
    }

    @Test
    void aTcpPacketIsStrippedAndRouted() {
        ByteBuf p = Packets.tcpPacket(ip(10, 66, 0, 2), ip(10, 77, 0, 1), new byte[] {1, 2, 3});
        new TunToUdp(peers, stats).accept(p);
        assertEquals(List.of(ip(10, 77, 0, 1)), destinations);
        assertEquals(23, routed.getFirst().readableBytes());
        assertEquals(40000, routed.getFirst().getUnsignedShort(routed.getFirst().readerIndex()));
        assertEquals(0, stats.snapshot().entrySet().stream().filter(e -> e.getKey().startsWith("discard_"))
                .mapToLong(e -> e.getValue()).sum());
    }

    private EmbeddedChannel udpToTun() {
        TunSink sink = (header, segment) -> {
            ByteBuf all = Unpooled.buffer();
            all.writeBytes(header, header.readerIndex(), header.readableBytes());
            all.writeBytes(segment, segment.readerIndex(), segment.readableBytes());
            written.add(bytes(all));
            all.release();
        };
        return new EmbeddedChannel(new UdpToTun(peers, () -> tunAddress, sink, stats, ByteBufAllocator.DEFAULT));
    }

    private static DatagramPacket datagram(ByteBuf payload, int port) {
        return new DatagramPacket(payload, new InetSocketAddress("10.77.0.1", 12345),
                new InetSocketAddress("10.77.0.2", port));
    }

    @Test
    void datagramFromAnUnknownPeerIsDiscarded() {
        EmbeddedChannel ch = udpToTun();
        ByteBuf seg = Packets.tcpSegment(1, 2, new byte[4]);
        ch.writeInbound(datagram(seg, 6000));
        assertEquals(1, stats.discarded(Discard.UNKNOWN_PEER));
        assertEquals(0, seg.refCnt());
        assertTrue(written.isEmpty());
        ch.finishAndReleaseAll();
    }

    @Test
    void datagramWhileTheTunHasNoAddressIsDiscarded() {
        tunAddress = 0;
        EmbeddedChannel ch = udpToTun();
        ch.writeInbound(datagram(Packets.tcpSegment(1, 2, new byte[4]), 5000));
        assertEquals(1, stats.discarded(Discard.NO_TUN_ADDRESS));
        assertTrue(written.isEmpty());
        ch.finishAndReleaseAll();
    }

    @Test
    void shortDatagramIsMalformed() {
        EmbeddedChannel ch = udpToTun();
        ch.writeInbound(datagram(Unpooled.wrappedBuffer(new byte[19]), 5000));
        assertEquals(1, stats.discarded(Discard.MALFORMED_TCP));
        assertTrue(written.isEmpty());
        ch.finishAndReleaseAll();
    }

    @Test
    void datagramFromAKnownPeerIsWrittenWithNewHeaderAndChecksum() {
        EmbeddedChannel ch = udpToTun();
        // the sender computed its checksum for its own addresses (10.66.0.2 -> 10.77.0.1)
        ByteBuf seg = Packets.tcpSegment(ip(10, 66, 0, 2), ip(10, 77, 0, 1), new byte[] {5, 6, 7});
        byte[] original = bytes(seg);
        ch.writeInbound(datagram(seg, 5000));
        assertEquals(1, written.size());
        byte[] pkt = written.getFirst();
        assertEquals(20 + original.length, pkt.length);
        byte[] header = java.util.Arrays.copyOf(pkt, 20);
        byte[] tcp = java.util.Arrays.copyOfRange(pkt, 20, pkt.length);
        assertTrue(Packets.ipv4ChecksumValid(header));
        assertEquals(knownSource, Unpooled.wrappedBuffer(header).getInt(12));
        assertEquals(tunAddress, Unpooled.wrappedBuffer(header).getInt(16));
        assertTrue(Packets.tcpChecksumValid(tcp, knownSource, tunAddress));
        assertEquals(1, stats.snapshot().get("to_tun"));
        assertEquals(0, seg.refCnt());
        ch.finishAndReleaseAll();
    }
}
