package io.sdt.core.tunnel;

import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.metrics.ModeTag;
import io.sdt.core.tunnel.TunnelSpec.Direction;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a spec decides once: its mode, its metrics tag, which OPEN frames fit it, and direct mode's rules. */
class TunnelSpecTest {

    private static final HostPort BIND = new HostPort("127.0.0.1", 0);
    private static final HostPort TARGET = new HostPort("127.0.0.1", 53);
    private static final HostPort PEER = new HostPort("10.0.0.5", 4000);

    private static TunnelSpec spec(boolean dynamic, boolean direct, boolean push, boolean udp) {
        return new TunnelSpec(Direction.LOCAL, udp, BIND, dynamic ? null : TARGET, 0, null, push,
                direct ? PEER : null, 0, 0, null, "t");
    }

    @Test
    void tagPrecedenceIsDynamicThenDirectThenPushThenUdp() {
        assertEquals(ModeTag.DYNAMIC, spec(true, true, true, true).tag());
        assertEquals(ModeTag.DIRECT, spec(false, true, true, true).tag());
        assertEquals(ModeTag.PUSH, spec(false, false, true, true).tag());
        assertEquals(ModeTag.UDP, spec(false, false, false, true).tag());
        assertEquals(ModeTag.TCP, spec(false, false, false, false).tag());
        assertEquals("dynamic", ModeTag.DYNAMIC.tag());
        assertEquals("tcp", ModeTag.TCP.tag());
    }

    @Test
    void modeIsRouterWithoutTargetElsePushElseForward() {
        assertEquals(Mode.ROUTER, spec(true, false, false, false).mode());
        assertEquals(Mode.PUSH, spec(false, true, true, true).mode(), "direct push is push, filtered");
        assertEquals(Mode.PUSH, spec(false, false, true, false).mode());
        assertEquals(Mode.FORWARD, spec(false, true, false, true).mode(), "direct is forward, filtered");
        assertEquals(Mode.FORWARD, spec(false, false, false, false).mode());
        assertEquals(Mode.ROUTER, TunnelSpecParser.parseDynamic("1080").mode());
        assertEquals(Mode.ROUTER, TunnelSpecParser.parse(Direction.REMOTE, "1080").mode());
        assertEquals(Mode.PUSH, TunnelSpecParser.parse(Direction.LOCAL, "514:h:514/udp,push").mode());
    }

    @Test
    void theFarNodeTellsTheModeOfAChannelByItsPushFlag() {
        assertEquals(Mode.PUSH, Mode.of(open(false, true)));
        assertEquals(Mode.PUSH, Mode.of(open(true, true)));
        assertEquals(Mode.FORWARD, Mode.of(open(true, false)));
        assertEquals(Mode.FORWARD, Mode.of(open(false, false)));
    }

    @Test
    void anOpenFitsItsOwnKindAndARouterTakesStreamsAndDatagramsButNoPush() {
        TunnelSpec tcp = spec(false, false, false, false);
        assertTrue(tcp.fits(open(false, false)));
        assertFalse(tcp.fits(open(true, false)));
        assertFalse(tcp.fits(open(false, true)));
        TunnelSpec udpPush = spec(false, false, true, true);
        assertTrue(udpPush.fits(open(true, true)));
        assertFalse(udpPush.fits(open(true, false)));
        TunnelSpec router = spec(true, false, false, false);
        assertTrue(router.fits(open(false, false)));
        assertTrue(router.fits(open(true, false)));
        assertFalse(router.fits(open(false, true)));
    }

    @Test
    void aLinkIsSoleOnlyForOneDirectUdpTunnelWithAnExactPeer() {
        TunnelSpec exact = spec(false, true, false, true);
        assertTrue(TunnelSpec.sole(List.of(exact)));
        assertFalse(TunnelSpec.sole(List.of(exact, exact)));
        assertFalse(TunnelSpec.sole(List.of(spec(false, true, false, false))), "TCP");
        assertFalse(TunnelSpec.sole(List.of(spec(false, false, false, true))), "not direct");
        TunnelSpec anyPort = new TunnelSpec(Direction.LOCAL, true, BIND, TARGET, 0, null, false,
                new HostPort("10.0.0.5", 0), 0, 0, null, "t");
        assertFalse(anyPort.exactPeer());
        assertFalse(TunnelSpec.sole(List.of(anyPort)));
    }

    @Test
    void peerFilterMatchesAddressAndPortAndV4MappedForms() {
        PeerFilter exact = PeerFilter.of(PEER);
        assertTrue(exact.admits(new InetSocketAddress("10.0.0.5", 4000)));
        assertTrue(exact.admits(new InetSocketAddress("::ffff:10.0.0.5", 4000)));
        assertFalse(exact.admits(new InetSocketAddress("10.0.0.5", 4001)));
        assertFalse(exact.admits(new InetSocketAddress("10.0.0.6", 4000)));
        assertTrue(PeerFilter.ANY.admits(new InetSocketAddress("192.0.2.1", 1)));
        assertTrue(PeerFilter.of(null).admits(new InetSocketAddress("192.0.2.1", 1)));
        PeerFilter named = PeerFilter.of(new HostPort("peer.example", 1));
        assertFalse(named.admits(new InetSocketAddress("10.0.0.5", 1)), "a name admits nobody");
        Tunnel tunnel = new Tunnel(1, spec(false, true, false, true));
        assertTrue(tunnel.admits(new InetSocketAddress("10.0.0.5", 4000)));
        assertFalse(tunnel.admits(new InetSocketAddress("10.0.0.5", 4002)));
    }

    private static Frame.Open open(boolean udp, boolean push) {
        return new Frame.Open(1, 1, 0, udp, push, false, TARGET, null);
    }
}
