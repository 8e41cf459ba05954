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
        TestLinks.receive(link, new Frame.Close(1, ErrorCode.NONE));
        assertEquals(0, counters.peers(), "the peer leaves with its channel");
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
