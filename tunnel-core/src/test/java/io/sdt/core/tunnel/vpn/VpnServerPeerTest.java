package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.IpPrefix;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.TestLinks;
import io.sdt.core.metrics.NodeStats;
import io.sdt.core.testing.LeakGuard;
import io.sdt.core.tun.OffloadTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the server does with a VPN client's channel, frame by frame over an {@link EmbeddedChannel} link:
 * the request and the grant, and every kind of bad packet from the client dropped and counted, released,
 * before it could reach the device (the server here has none: nothing may need it).
 */
@ExtendWith(LeakGuard.class)
class VpnServerPeerTest {

    private static final byte[] ID = new byte[16];
    private static final int CLIENT = IpPackets.v4(IpPrefix.parse("10.8.0.2").address());
    private static final int ROUTED = IpPackets.v4(IpPrefix.parse("10.88.0.1").address());
    private static final int ELSEWHERE = IpPackets.v4(IpPrefix.parse("192.0.2.1").address());

    private final EmbeddedChannel ch = new EmbeddedChannel();
    private final Link link = TestLinks.over(ch, false, LinkSettings.defaults(), new NodeStats(), (l, o) -> { });
    private final VpnCounters counters = new VpnCounters();
    private final VpnServer server = new VpnServer(new VpnSettings.Server(List.of(IpPrefix.parse("10.8.0.0/24")),
            List.of(IpPrefix.parse("10.88.0.0/24")), null, 1500), counters);
    private final List<Frame> sent = new ArrayList<>();

    @AfterEach
    void release() {
        sent.forEach(ReferenceCountUtil::release);
        ch.finishAndReleaseAll();
    }

    private List<Frame> out() {
        List<Frame> got = new ArrayList<>();
        Frame f;
        while ((f = ch.readOutbound()) != null) {
            got.add(f);
        }
        sent.addAll(got);
        return got;
    }

    /** The client's OPEN and request; the server's answers. */
    private List<Frame> join() {
        server.open(link, Frame.Open.vpn(1, 0));
        TestLinks.receive(link, new Frame.VpnConfig(1, ID, 0, List.of(), List.of()));
        return out();
    }

    @Test
    void aRequestGetsOpenOkAndTheGrantWithAddressMtuAndRoutes() {
        List<Frame> answer = join();
        assertInstanceOf(Frame.OpenOk.class, answer.get(0));
        Frame.VpnConfig grant = assertInstanceOf(Frame.VpnConfig.class, answer.get(1));
        assertEquals(List.of(IpPrefix.parse("10.8.0.2/24")), grant.addresses());
        assertEquals(List.of(IpPrefix.parse("10.88.0.0/24")), grant.routes());
        assertEquals(1500, grant.mtu());
        assertEquals(1, counters.peers());
        List<VpnPeerView> peers = server.peers();
        assertEquals(1, peers.size(), "the admin endpoint lists the client once");
        assertEquals(List.of(IpPrefix.parse("10.8.0.2/24")), peers.getFirst().addresses());
        assertEquals("00000000", peers.getFirst().client(), "the first 8 hex digits of its id");
        assertEquals(link.toString(), peers.getFirst().link());
        assertTrue(peers.getFirst().sinceMillis() > 0);
        TestLinks.receive(link, new Frame.Close(1, ErrorCode.NONE));
        assertEquals(0, counters.peers(), "the peer leaves with its channel");
        assertEquals(List.of(), server.peers(), "and the list");
    }

    @Test
    void badPacketsFromTheClientAreDroppedCountedAndReleased() {
        join();
        List<ByteBuf> payloads = new ArrayList<>();
        ByteBuf garbage = Unpooled.wrappedBuffer(new byte[]{0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                18, 19, 20});
        ByteBuf spoofed = IpPacketsTest.v4(ELSEWHERE, ROUTED, 100);
        ByteBuf notRouted = IpPacketsTest.v4(CLIENT, ELSEWHERE, 100);
        ByteBuf tooBig = IpPacketsTest.v4(CLIENT, ROUTED, 3000);
        payloads.addAll(List.of(garbage, spoofed, notRouted, tooBig));
        for (ByteBuf p : payloads) {
            TestLinks.receive(link, new Frame.Datagram(1, p));
        }
        assertEquals(1, counters.drops(VpnCounters.Drop.MALFORMED));
        assertEquals(1, counters.drops(VpnCounters.Drop.SPOOFED));
        assertEquals(1, counters.drops(VpnCounters.Drop.NOT_ROUTED));
        assertEquals(1, counters.drops(VpnCounters.Drop.TOO_BIG));
        assertEquals(4, counters.packetsFromLink());
        for (ByteBuf p : payloads) {
            assertEquals(0, p.refCnt(), "every dropped packet is released");
        }
        List<Frame> back = out();
        assertEquals(1, back.size(), "one answer: the ICMP for the packet too big with DF set");
        Frame.Datagram icmp = assertInstanceOf(Frame.Datagram.class, back.get(0));
        assertEquals(CLIENT, IpPackets.v4Destination(icmp.content()));
        assertEquals(1500, icmp.content().getUnsignedShort(26));
        assertTrue(ch.isOpen(), "bad packets are the client's business, not a protocol violation");
    }

    @Test
    void superSegmentsGoWholeToAClientThatTakesThemAndCutToOneThatDoesNot() {
        VpnCounters c = new VpnCounters();
        VpnServer between = new VpnServer(new VpnSettings.Server(List.of(IpPrefix.parse("10.8.0.0/24")),
                List.of(IpPrefix.parse("10.8.0.0/24")), null, 1500), c); // clients may reach each other
        EmbeddedChannel[] chs = {new EmbeddedChannel(), new EmbeddedChannel(), new EmbeddedChannel()};
        byte[][] addresses = new byte[3][];
        int[] features = {Frame.VPN_OFFLOAD, 0, Frame.VPN_OFFLOAD}; // A and C take offloads, B does not
        Link[] links = new Link[3];
        try {
            for (int i = 0; i < 3; i++) {
                links[i] = TestLinks.over(chs[i], false, LinkSettings.defaults(), new NodeStats(), (l, o) -> { });
                between.open(links[i], Frame.Open.vpn(1, 0));
                byte[] id = new byte[16];
                id[0] = (byte) i;
                TestLinks.receive(links[i], new Frame.VpnConfig(1, id, 0, features[i], List.of(), List.of()));
                ReferenceCountUtil.release(chs[i].readOutbound());
                Frame.VpnConfig grant = (Frame.VpnConfig) chs[i].readOutbound();
                assertEquals(features[i], grant.features(), "the server echoes what it will use");
                addresses[i] = grant.addresses().getFirst().address();
            }
            byte[] payload = new byte[4000];
            TestLinks.receive(links[0], new Frame.Datagram(1, OffloadTest.superSegment(addresses[0], addresses[1],
                    payload, 1448)));
            TestLinks.receive(links[0], new Frame.Datagram(1, OffloadTest.superSegment(addresses[0], addresses[2],
                    payload, 1448)));
            List<ByteBuf> toB = datagrams(chs[1]);
            List<ByteBuf> toC = datagrams(chs[2]);
            assertEquals(3, toB.size(), "B gets the three segments");
            for (ByteBuf p : toB) {
                assertEquals(4, IpPackets.version(p), "each a plain, well-formed IPv4 packet");
                assertFalse(io.sdt.core.tun.Offload.marked(p));
            }
            assertEquals(1, toC.size(), "C gets the super-segment whole");
            assertTrue(io.sdt.core.tun.Offload.marked(toC.getFirst()));
            assertEquals(1, c.superSegmentsCut());
            assertEquals(2, c.superSegmentsFromLink());
            assertEquals(1, c.superSegmentsToLink());
            toB.forEach(ByteBuf::release);
            toC.forEach(ByteBuf::release);

            ByteBuf unagreed = OffloadTest.superSegment(addresses[1], addresses[0], payload, 1448);
            TestLinks.receive(links[1], new Frame.Datagram(1, unagreed));
            assertEquals(1, c.drops(VpnCounters.Drop.MALFORMED), "B did not agree to offloads: its header is refused");
            ByteBuf tooBig = OffloadTest.superSegment(addresses[0], addresses[2], payload, 1480);
            TestLinks.receive(links[0], new Frame.Datagram(1, tooBig));
            assertEquals(1, c.drops(VpnCounters.Drop.TOO_BIG), "segments of 1480 + 40 bytes exceed the MTU");
            assertEquals(0, unagreed.refCnt() + tooBig.refCnt());
            assertTrue(datagrams(chs[0]).isEmpty() && datagrams(chs[2]).isEmpty(), "nothing forwarded, no ICMP");
        } finally {
            for (EmbeddedChannel e : chs) {
                e.finishAndReleaseAll();
            }
        }
    }

    private static List<ByteBuf> datagrams(EmbeddedChannel ch) {
        List<ByteBuf> got = new ArrayList<>();
        Frame f;
        while ((f = ch.readOutbound()) != null) {
            if (f instanceof Frame.Datagram d) {
                got.add(d.content());
            } else {
                ReferenceCountUtil.release(f);
            }
        }
        return got;
    }

    @Test
    void packetsBeforeTheRequestAndASecondRequestAreProtocolViolations() {
        server.open(link, Frame.Open.vpn(1, 0));
        ByteBuf early = IpPacketsTest.v4(CLIENT, ROUTED, 60);
        TestLinks.receive(link, new Frame.Datagram(1, early));
        assertEquals(0, early.refCnt());
        assertFalse(ch.isOpen(), "a DATAGRAM before VPN_CONFIG closes the link");

        EmbeddedChannel other = new EmbeddedChannel();
        Link second = TestLinks.over(other, false, LinkSettings.defaults(), new NodeStats(), (l, o) -> { });
        server.open(second, Frame.Open.vpn(1, 0));
        TestLinks.receive(second, new Frame.VpnConfig(1, ID, 0, List.of(), List.of()));
        TestLinks.receive(second, new Frame.VpnConfig(1, ID, 0, List.of(), List.of()));
        assertFalse(other.isOpen(), "one request per channel");
        other.finishAndReleaseAll();
    }

    @Test
    void aRequestOutsideThePoolIsRefusedAndTheChannelFreed() {
        server.open(link, Frame.Open.vpn(1, 0));
        TestLinks.receive(link, new Frame.VpnConfig(1, ID, 0, List.of(IpPrefix.parse("10.9.0.5/24")), List.of()));
        Frame.OpenFail fail = assertInstanceOf(Frame.OpenFail.class, out().get(0));
        assertEquals(ErrorCode.DENIED, fail.code());
        assertFalse(link.isRegistered(1));
        assertEquals(0, counters.peers());
    }
}
