package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Frame values, type codes and error codes, without the codec. */
class FrameTest {

    @RegisterExtension
    final LeakGuard guard = new LeakGuard();

    @ParameterizedTest
    @ValueSource(ints = {0, 31, 33})
    void noncesAndProofsAreExactly32Bytes(int length) {
        byte[] bad = new byte[length];
        byte[] good = new byte[Frame.NONCE_LENGTH];
        assertThrows(IllegalArgumentException.class, () -> new Frame.Hello(1, bad));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Challenge(bad, good));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Challenge(good, bad));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Auth(bad));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Auth(null));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, Varint.MAX_VALUE + 1})
    void idsAndWindowsMustFitAVarint(int v) {
        HostPort hp = new HostPort("a", 1);
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(v, 0, 0, false, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(0, v, 0, false, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(0, 0, v, false, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.OpenOk(v, 0));
        assertThrows(IllegalArgumentException.class, () -> new Frame.OpenOk(0, v));
        assertThrows(IllegalArgumentException.class, () -> new Frame.OpenFail(v, ErrorCode.GENERAL, ""));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Window(v, 1));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Window(1, v));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Eof(v));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Close(v, ErrorCode.NONE));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Bind(v, false, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.BindOk(v, hp));
        assertThrows(IllegalArgumentException.class, () -> new Frame.BindFail(v, ErrorCode.GENERAL, ""));
        assertThrows(IllegalArgumentException.class, () -> Frame.Open.vpn(v, 0));
        assertThrows(IllegalArgumentException.class, () -> Frame.Open.vpn(0, v));
        assertThrows(IllegalArgumentException.class,
                () -> new Frame.VpnConfig(v, FrameFixtures.clientId(), 0, List.of(), List.of()));
        ByteBuf payload = guard.pattern(1);
        assertThrows(IllegalArgumentException.class, () -> new Frame.Data(v, payload));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Datagram(v, payload));
        payload.release();
    }

    @Test
    void secretsAreNotPrinted() {
        byte[] proof = FrameFixtures.nonce(0xAB);
        assertEquals("Auth[proof=***]", new Frame.Auth(proof).toString());
        String challenge = new Frame.Challenge(FrameFixtures.nonce(0x10), proof).toString();
        assertFalse(challenge.contains("abacad"), challenge);
        assertEquals("Hello[version=1]", new Frame.Hello(1, proof).toString());
    }

    @Test
    void byteArrayFramesCompareByContent() {
        assertEquals(new Frame.Hello(1, FrameFixtures.nonce(1)), new Frame.Hello(1, FrameFixtures.nonce(1)));
        assertEquals(new Frame.Hello(1, FrameFixtures.nonce(1)).hashCode(),
                new Frame.Hello(1, FrameFixtures.nonce(1)).hashCode());
        assertNotEquals(new Frame.Hello(1, FrameFixtures.nonce(1)), new Frame.Hello(2, FrameFixtures.nonce(1)));
        assertEquals(new Frame.Challenge(FrameFixtures.nonce(1), FrameFixtures.nonce(2)),
                new Frame.Challenge(FrameFixtures.nonce(1), FrameFixtures.nonce(2)));
        assertNotEquals(new Frame.Challenge(FrameFixtures.nonce(1), FrameFixtures.nonce(2)),
                new Frame.Challenge(FrameFixtures.nonce(2), FrameFixtures.nonce(1)));
        assertEquals(new Frame.Auth(FrameFixtures.nonce(1)), new Frame.Auth(FrameFixtures.nonce(1)));
        assertNotEquals(new Frame.Auth(FrameFixtures.nonce(1)), new Frame.Auth(FrameFixtures.nonce(3)));
    }

    @Test
    void typeCodesAreUniqueAndChannelFramesStartAt0x10() {
        Set<Integer> codes = new HashSet<>();
        for (FrameType t : FrameType.values()) {
            assertTrue(codes.add(t.code()), t.name());
            assertSame(t, FrameType.of(t.code()));
            assertEquals(t.code() >= 0x10, t.hasChannel(), t.name());
        }
        assertNull(FrameType.of(0));
        assertNull(FrameType.of(0x0D));
        assertNull(FrameType.of(0x1B));
        assertNull(FrameType.of(0xFF));
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void errorCodesMapBothWays(ErrorCode code) {
        assertSame(code, ErrorCode.of(code.code()));
    }

    @Test
    void unknownErrorCodesAreGeneral() {
        assertEquals(13, ErrorCode.values().length);
        for (int c = 13; c < 256; c++) {
            assertSame(ErrorCode.GENERAL, ErrorCode.of(c));
        }
        assertSame(ErrorCode.GENERAL, ErrorCode.of(-1));
    }

    @Test
    void vpnOpenHasNoTargetNoWindowAndNoOtherFlag() {
        Frame.Open open = Frame.Open.vpn(3, 9);
        assertEquals(new Frame.Open(3, 9, 0, false, false, false, new HostPort("0.0.0.0", 0), null, false, true), open);
        assertTrue(open.vpn());
        assertEquals(new HostPort("0.0.0.0", 0), Frame.Open.VPN_TARGET);
        HostPort t = Frame.Open.VPN_TARGET;
        HostPort origin = new HostPort("10.0.0.1", 1);
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(1, 1, 0, true, false, false, t, null, false, true));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(1, 1, 0, false, true, false, t, null, false, true));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(1, 1, 0, false, false, true, t, null, false, true));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(1, 1, 0, false, false, false, t, origin, false, true));
        assertThrows(IllegalArgumentException.class, () -> new Frame.Open(1, 1, 0, false, true, false, t, null, true, true));
    }

    @Test
    void olderOpenConstructorsAreNotVpn() {
        HostPort hp = new HostPort("a", 1);
        assertFalse(new Frame.Open(1, 1, 0, false, hp).vpn());
        assertFalse(new Frame.Open(1, 1, 0, true, true, hp).vpn());
        assertFalse(new Frame.Open(1, 1, 0, true, false, true, hp).vpn());
        assertFalse(new Frame.Open(1, 1, 0, false, false, false, hp, hp).vpn());
        assertFalse(new Frame.Open(1, 1, 0, false, true, false, hp, null, true).vpn());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 15, 17, 32})
    void vpnClientIdIsExactly16Bytes(int length) {
        assertThrows(IllegalArgumentException.class,
                () -> new Frame.VpnConfig(1, new byte[length], 0, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Frame.VpnConfig(1, null, 0, List.of(), List.of()));
    }

    @Test
    void vpnConfigLimits() {
        byte[] id = FrameFixtures.clientId();
        IpPrefix p = IpPrefix.parse("10.8.0.2/24");
        List<IpPrefix> most = Collections.nCopies(Frame.VPN_MAX_ADDRESSES, p);
        List<IpPrefix> mostRoutes = Collections.nCopies(Frame.VPN_MAX_ROUTES, p);
        new Frame.VpnConfig(1, id, 65_535, most, mostRoutes);
        assertThrows(IllegalArgumentException.class, () -> new Frame.VpnConfig(1, id, -1, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Frame.VpnConfig(1, id, 65_536, List.of(), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new Frame.VpnConfig(1, id, 0, Collections.nCopies(Frame.VPN_MAX_ADDRESSES + 1, p), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new Frame.VpnConfig(1, id, 0, List.of(), Collections.nCopies(Frame.VPN_MAX_ROUTES + 1, p)));
        assertThrows(NullPointerException.class, () -> new Frame.VpnConfig(1, id, 0, null, List.of()));
        assertThrows(NullPointerException.class, () -> new Frame.VpnConfig(1, id, 0, List.of(), null));
        assertThrows(NullPointerException.class,
                () -> new Frame.VpnConfig(1, id, 0, Arrays.asList(p, null), List.of()));
    }

    @Test
    void vpnConfigIsImmutable() {
        byte[] id = FrameFixtures.clientId();
        List<IpPrefix> addresses = new ArrayList<>(List.of(IpPrefix.parse("10.8.0.2/24")));
        Frame.VpnConfig v = new Frame.VpnConfig(1, id, 1400, addresses, List.of());
        id[0] = 99;
        addresses.add(IpPrefix.parse("10.8.0.3/24"));
        v.clientId()[1] = 99;
        assertArrayEquals(FrameFixtures.clientId(), v.clientId());
        assertEquals(List.of(IpPrefix.parse("10.8.0.2/24")), v.addresses());
        assertThrows(UnsupportedOperationException.class, () -> v.addresses().add(IpPrefix.parse("10.8.0.4/24")));
        assertThrows(UnsupportedOperationException.class, () -> v.routes().add(IpPrefix.parse("10.8.0.4/24")));
    }

    @Test
    void vpnConfigComparesByContentAndPrintsAShortId() {
        Frame.VpnConfig a = FrameFixtures.vpnGrant(1);
        Frame.VpnConfig b = FrameFixtures.vpnGrant(1);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, FrameFixtures.vpnGrant(3));
        byte[] other = FrameFixtures.clientId();
        other[15] = 1;
        assertNotEquals(a, new Frame.VpnConfig(1, other, a.mtu(), a.addresses(), a.routes()));
        assertNotEquals(a, new Frame.VpnConfig(1, a.clientId(), 1280, a.addresses(), a.routes()));
        assertNotEquals(a, new Frame.VpnConfig(1, a.clientId(), a.mtu(), a.routes(), a.routes()));
        assertNotEquals(a, new Frame.VpnConfig(1, a.clientId(), a.mtu(), a.addresses(), List.of()));
        assertEquals("VpnConfig[channel=1, client=00010203.., mtu=1400, features=0, addresses=[10.8.0.2/24, fd00::2/64],"
                + " routes=[10.9.0.0/16, 192.168.1.0/24, ::/0]]", a.toString());
    }

    @Test
    void exceptionCarriesReason() {
        FrameException e = new FrameException(FrameException.Reason.TOO_LONG, "big");
        assertSame(FrameException.Reason.TOO_LONG, e.reason());
        assertEquals("TOO_LONG: big", e.getMessage());
    }
}
