package io.sdt.codec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Sample frames: every frame type, every address family, payloads on both sides of the encoder's
 * copy threshold, and the largest varint values. Payload frames are created on demand through a
 * {@link LeakGuard}, so each test owns (and releases) its own buffers.
 */
final class FrameFixtures {

    static final int MAX = Varint.MAX_VALUE;

    static final HostPort IPV4 = new HostPort("192.168.10.20", 8080);
    static final HostPort IPV4_ANY = new HostPort("0.0.0.0", 0);
    static final HostPort IPV6 = new HostPort("2001:db8::42", 443);
    static final HostPort IPV6_ANY = new HostPort("::", 65535);
    static final HostPort NAME = new HostPort("db.internal", 5432);
    static final HostPort NAME_LONGEST = new HostPort(longestName(), 1);

    private FrameFixtures() {
    }

    /** A fixed nonce whose bytes are {@code seed, seed+1, ...}. */
    static byte[] nonce(int seed) {
        byte[] b = new byte[Frame.NONCE_LENGTH];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (seed + i);
        }
        return b;
    }

    /** The spool identity 00 01 02 ... 0f. */
    static byte[] spoolId() {
        byte[] b = new byte[Frame.SPOOL_ID_LENGTH];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    /** The VPN client identity 00 01 02 ... 0f. */
    static byte[] clientId() {
        return spoolId();
    }

    /** Prefixes parsed from their text. */
    static List<IpPrefix> prefixes(String... texts) {
        return Arrays.stream(texts).map(IpPrefix::parse).toList();
    }

    /** A server's grant as the VPN mode sends it: one address per family, a few routes. */
    static Frame.VpnConfig vpnGrant(int channel) {
        return new Frame.VpnConfig(channel, clientId(), 1400, prefixes("10.8.0.2/24", "fd00::2/64"),
                prefixes("10.9.0.0/16", "192.168.1.0/24", "::/0"));
    }

    /** The longest VPN_CONFIG: channel 2^28 - 1, the most addresses and routes, all IPv6. */
    static Frame.VpnConfig vpnLargest() {
        List<IpPrefix> addresses = new ArrayList<>();
        for (int i = 0; i < Frame.VPN_MAX_ADDRESSES; i++) {
            addresses.add(IpPrefix.parse("fd00::" + Integer.toHexString(i + 2) + "/64"));
        }
        List<IpPrefix> routes = new ArrayList<>();
        for (int i = 0; i < Frame.VPN_MAX_ROUTES; i++) {
            routes.add(IpPrefix.parse("2001:db8:" + Integer.toHexString(i) + "::/48"));
        }
        return new Frame.VpnConfig(MAX, clientId(), 65_535, addresses, routes);
    }

    /** A 255-byte domain name (the longest the format carries) made of 63-char labels. */
    static String longestName() {
        String label = "a".repeat(63);
        String name = label + "." + label + "." + label + "." + "b".repeat(63);
        if (name.length() != 255) {
            throw new AssertionError(name.length());
        }
        return name;
    }

    /** Named frame factories; the names show up in parameterized test reports. */
    static Map<String, Function<LeakGuard, Frame>> all() {
        Map<String, Function<LeakGuard, Frame>> m = new LinkedHashMap<>();
        m.put("HELLO v1", g -> new Frame.Hello(Frame.VERSION, nonce(1)));
        m.put("HELLO v255", g -> new Frame.Hello(255, nonce(200)));
        m.put("CHALLENGE", g -> new Frame.Challenge(nonce(2), nonce(100)));
        m.put("AUTH", g -> new Frame.Auth(nonce(3)));
        m.put("AUTH_OK", g -> new Frame.AuthOk());
        m.put("GOAWAY shutdown", g -> new Frame.GoAway(ErrorCode.SHUTDOWN, "server is stopping"));
        m.put("GOAWAY empty message", g -> new Frame.GoAway(ErrorCode.NONE, ""));
        m.put("GOAWAY utf-8", g -> new Frame.GoAway(ErrorCode.AUTH_FAILED, "Zugriff verweigert \u2013 \u2713"));
        m.put("PING zero", g -> new Frame.Ping(0));
        m.put("PING min", g -> new Frame.Ping(Long.MIN_VALUE));
        m.put("PONG max", g -> new Frame.Pong(Long.MAX_VALUE));
        m.put("PONG -1", g -> new Frame.Pong(-1));
        m.put("BIND ipv4 tcp", g -> new Frame.Bind(0, false, IPV4_ANY));
        m.put("BIND ipv6 udp max tunnel", g -> new Frame.Bind(MAX, true, IPV6_ANY));
        m.put("BIND udp idle and max", g -> new Frame.Bind(3, true, MAX, MAX, IPV4_ANY));
        m.put("BIND push with peer", g -> new Frame.Bind(4, true, true, 0, 0, IPV4_ANY, new HostPort("10.0.0.5", 0)));
        m.put("BIND tcp with ipv6 peer", g -> new Frame.Bind(5, false, false, 0, 2, IPV4_ANY, new HostPort("fd00::5", 443)));
        m.put("BIND dynamic", g -> new Frame.Bind(6, false, false, false, 0, 64, IPV4_ANY, null, true));
        m.put("BIND dynamic optimistic", g -> new Frame.Bind(8, false, false, false, 0, 0, IPV4_ANY, null, true, true));
        m.put("BIND domain", g -> new Frame.Bind(7, false, NAME));
        m.put("BIND_OK ipv4", g -> new Frame.BindOk(7, IPV4));
        m.put("BIND_OK ipv6 max tunnel", g -> new Frame.BindOk(MAX, IPV6));
        m.put("BIND_OK longest name", g -> new Frame.BindOk(128, NAME_LONGEST));
        m.put("BIND_FAIL", g -> new Frame.BindFail(7, ErrorCode.DENIED, "bind not allowed"));
        m.put("BIND_FAIL max tunnel", g -> new Frame.BindFail(MAX, ErrorCode.UNSUPPORTED, ""));
        m.put("OPEN ipv4 tcp", g -> new Frame.Open(1, 0, 1 << 20, false, IPV4));
        m.put("OPEN ipv6 udp", g -> new Frame.Open(2, 3, 0, true, IPV6));
        m.put("OPEN domain", g -> new Frame.Open(16_383, 16_384, 2_097_151, false, NAME));
        m.put("OPEN max varints", g -> new Frame.Open(MAX, MAX, MAX, true, NAME_LONGEST));
        m.put("OPEN udp push", g -> new Frame.Open(3, 1, 0, true, true, IPV4));
        m.put("OPEN tcp with ipv4 origin", g -> new Frame.Open(4, 1, 65_536, false, false, false, NAME,
                new HostPort("192.0.2.7", 50_123)));
        m.put("OPEN udp with ipv6 origin", g -> new Frame.Open(5, 2, 0, true, false, false, IPV4,
                new HostPort("2001:db8::9", 5353)));
        m.put("UNBIND", g -> new Frame.Unbind(7));
        m.put("UNBIND max tunnel", g -> new Frame.Unbind(MAX));
        m.put("OPEN_OK", g -> new Frame.OpenOk(1, 65_536));
        m.put("OPEN_OK max", g -> new Frame.OpenOk(MAX, MAX));
        m.put("OPEN_FAIL", g -> new Frame.OpenFail(3, ErrorCode.REFUSED, "connection refused"));
        m.put("OPEN_FAIL max channel", g -> new Frame.OpenFail(MAX, ErrorCode.UNREACHABLE, ""));
        m.put("DATA empty", g -> new Frame.Data(1, g.pattern(0)));
        m.put("DATA 1 byte", g -> new Frame.Data(127, g.pattern(1)));
        m.put("DATA at copy threshold", g -> new Frame.Data(128, g.pattern(FrameEncoder.COPY_THRESHOLD)));
        m.put("DATA over copy threshold", g -> new Frame.Data(129, g.pattern(FrameEncoder.COPY_THRESHOLD + 1)));
        m.put("DATA 1400", g -> new Frame.Data(5, g.pattern(1400)));
        m.put("DATA 16 KiB max channel", g -> new Frame.Data(MAX, g.pattern(16 * 1024)));
        m.put("DATA 200 KiB", g -> new Frame.Data(2_097_152, g.pattern(200 * 1024)));
        m.put("WINDOW", g -> new Frame.Window(1, 16_384));
        m.put("PUSH_SEQ", g -> new Frame.PushSeq(1, spoolId(), 1));
        m.put("PUSH_SEQ max", g -> new Frame.PushSeq(MAX, spoolId(), Long.MAX_VALUE));
        m.put("PUSH_ACK", g -> new Frame.PushAck(1, 42));
        m.put("PUSH_ACK max", g -> new Frame.PushAck(MAX, Long.MAX_VALUE));
        m.put("WINDOW max", g -> new Frame.Window(MAX, MAX));
        m.put("EOF zero", g -> new Frame.Eof(0));
        m.put("EOF max", g -> new Frame.Eof(MAX));
        m.put("CLOSE", g -> new Frame.Close(5, ErrorCode.NONE));
        m.put("CLOSE max", g -> new Frame.Close(MAX, ErrorCode.TIMEOUT));
        m.put("DATAGRAM empty", g -> new Frame.Datagram(9, g.pattern(0)));
        m.put("DATAGRAM at copy threshold", g -> new Frame.Datagram(10, g.pattern(FrameEncoder.COPY_THRESHOLD)));
        m.put("DATAGRAM over copy threshold", g -> new Frame.Datagram(11, g.pattern(FrameEncoder.COPY_THRESHOLD + 1)));
        m.put("DATAGRAM 1400", g -> new Frame.Datagram(12, g.pattern(1400)));
        m.put("DATAGRAM 65507 max channel", g -> new Frame.Datagram(MAX, g.pattern(65_507)));
        m.put("SOLE_DATAGRAM empty", g -> new Frame.SoleDatagram(g.pattern(0)));
        m.put("SOLE_DATAGRAM 1400", g -> new Frame.SoleDatagram(g.pattern(1400)));
        m.put("OPEN udp sole", g -> new Frame.Open(1, 1, 0, true, false, true, IPV4));
        m.put("OPEN tcp early", g -> new Frame.Open(7, 2, 65_536, false, false, false, NAME, null, false, false,
                false, true));
        m.put("OPEN tcp early with origin and proxy-protocol", g -> new Frame.Open(9, 2, 65_536, false, false, false,
                IPV4, new HostPort("192.0.2.7", 50_123), false, false, true, true));
        m.put("OPEN vpn", g -> Frame.Open.vpn(1, 1));
        m.put("OPEN vpn max varints", g -> Frame.Open.vpn(MAX, MAX));
        m.put("VPN_CONFIG request", g -> new Frame.VpnConfig(1, clientId(), 0, List.of(), List.of()));
        m.put("VPN_CONFIG request for addresses", g -> new Frame.VpnConfig(3, clientId(), 0,
                prefixes("10.8.0.7/32", "fd00::7/128"), List.of()));
        m.put("VPN_CONFIG grant", g -> vpnGrant(1));
        m.put("VPN_CONFIG host and default routes", g -> new Frame.VpnConfig(128, Arrays.copyOf(nonce(7), 16), 1280,
                prefixes("100.64.0.1/10"), prefixes("0.0.0.0/0", "203.0.113.9", "2001:db8::1")));
        m.put("VPN_CONFIG largest", g -> vpnLargest());
        m.put("BIND udp sole with peer", g -> new Frame.Bind(1, true, false, true, 0, 0, IPV4_ANY, new HostPort("10.0.0.5", 9)));
        return m;
    }

    /**
     * A mixed sequence of every type, small enough to be split at every byte position
     * (a few hundred bytes), including one payload over the copy threshold.
     */
    static List<Frame> sequence(LeakGuard g) {
        return new ArrayList<>(Arrays.asList(
                new Frame.Hello(Frame.VERSION, nonce(1)),
                new Frame.Challenge(nonce(2), nonce(3)),
                new Frame.Auth(nonce(4)),
                new Frame.AuthOk(),
                new Frame.Bind(1, false, NAME),
                new Frame.BindOk(1, IPV6),
                new Frame.BindFail(2, ErrorCode.DENIED, "no"),
                new Frame.Unbind(2),
                new Frame.Open(1, 1, 65_536, false, IPV4),
                new Frame.OpenOk(1, 300),
                new Frame.Open(3, 1, 65_536, false, false, false, IPV4, null, false, false, false, true),
                Frame.Open.vpn(5, 3),
                vpnGrant(5),
                new Frame.Data(1, g.pattern(FrameEncoder.COPY_THRESHOLD + 44)),
                new Frame.Data(1, g.pattern(0)),
                new Frame.Window(1, MAX),
                new Frame.PushSeq(1, spoolId(), 7),
                new Frame.PushAck(1, 6),
                new Frame.Datagram(200, g.pattern(5)),
                new Frame.SoleDatagram(g.pattern(7)),
                new Frame.OpenFail(3, ErrorCode.TIMEOUT, "timed out"),
                new Frame.Ping(0x0102030405060708L),
                new Frame.Pong(0x0102030405060708L),
                new Frame.Eof(1),
                new Frame.Close(1, ErrorCode.NONE),
                new Frame.GoAway(ErrorCode.SHUTDOWN, "bye")));
    }
}
