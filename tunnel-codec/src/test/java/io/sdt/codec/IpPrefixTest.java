package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.sdt.codec.FrameException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IpPrefixTest {

    @RegisterExtension
    final LeakGuard guard = new LeakGuard();

    /** text, how it prints, its encoding. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "10.8.0.0/24,            10.8.0.0/24,            01 0a080000 18",
        "10.8.0.2/24,            10.8.0.2/24,            01 0a080002 18",
        "10.0.0.1,               10.0.0.1/32,            01 0a000001 20",
        "0.0.0.0/0,              0.0.0.0/0,              01 00000000 00",
        "255.255.255.255/32,     255.255.255.255/32,     01 ffffffff 20",
        "100.64.0.0/10,          100.64.0.0/10,          01 64400000 0a",
        "fd00::/64,              fd00::/64,              04 fd000000000000000000000000000000 40",
        "FD00:0:0:0:0:0:0:2/64,  fd00::2/64,             04 fd000000000000000000000000000002 40",
        "fd00:0000::0002/64,     fd00::2/64,             04 fd000000000000000000000000000002 40",
        "::/0,                   ::/0,                   04 00000000000000000000000000000000 00",
        "::1,                    ::1/128,                04 00000000000000000000000000000001 80",
        "2001:db8:0:0:1:0:0:1,   2001:db8::1:0:0:1/128,  04 20010db8000000000001000000000001 80",
        "2001:db8::1:0:0:0:1/100, 2001:db8:0:1::1/100,   04 20010db8000000010000000000000001 64",
        "::ffff:10.1.2.3/128,    ::ffff:10.1.2.3/128,    04 00000000000000000000ffff0a010203 80"})
    void parsePrintEncodeDecode(String text, String printed, String hex) {
        IpPrefix p = IpPrefix.parse(text);
        assertEquals(printed, p.toString());
        assertEquals(p, IpPrefix.parse(printed), "what it prints parses back");
        ByteBuf b = guard.writable(20);
        try {
            p.encode(b);
            assertEquals(hex.replace(" ", ""), ByteBufUtil.hexDump(b));
            assertEquals(b.readableBytes(), p.encodedSize());
            assertEquals(p, IpPrefix.decode(b));
            assertEquals(0, b.readableBytes());
        } finally {
            b.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "/24", "10.0.0.0/", "10.0.0.0/33", "fd00::/129", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/ 8",
        "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.0/24/1", "10.0.0.0/0x8", "10.0.0.0/08", "10.0.0.0/1000",
        "example.com", "example.com/24", "localhost", "10.0.0", "127.1", "010.0.0.1", "10.0.0.01/8", "0x7f.0.0.1",
        "2130706433", "256.0.0.1", "1.2.3.4.5", "[fd00::1]/64", "[::1]", "fe80::1%eth0", "fe80::1%1/64", "fd00::g",
        ":::", "1:2:3:4:5:6:7:8:9", "::ffff:010.0.0.1", "fd00:::1/64", "10.0.0.0\n"})
    void parseRejects(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IpPrefix.parse(text));
        assertFalse(e.getMessage().isBlank());
    }

    @Test
    void parseRejectsNullAndSaysWhatIsWrong() {
        assertThrows(IllegalArgumentException.class, () -> IpPrefix.parse(null));
        String bad = assertThrows(IllegalArgumentException.class, () -> IpPrefix.parse("db.internal/24")).getMessage();
        assertTrue(bad.contains("'db.internal' is not an IPv4 or IPv6 address"), bad);
        String len = assertThrows(IllegalArgumentException.class, () -> IpPrefix.parse("fd00::/200")).getMessage();
        assertTrue(len.contains("'200'") && len.contains("0 to 128"), len);
    }

    /** prefix, address, contained. */
    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource({
        "10.8.0.0/24,    10.8.0.0,                    true",
        "10.8.0.0/24,    10.8.0.255,                  true",
        "10.8.0.0/24,    10.8.1.0,                    false",
        "10.8.0.0/24,    10.7.255.255,                false",
        "10.8.0.2/24,    10.8.0.99,                   true",
        "10.8.0.0/20,    10.8.15.255,                 true",
        "10.8.0.0/20,    10.8.16.0,                   false",
        "128.0.0.0/1,    200.1.2.3,                   true",
        "128.0.0.0/1,    127.255.255.255,             false",
        "10.8.0.2/32,    10.8.0.2,                    true",
        "10.8.0.2/32,    10.8.0.3,                    false",
        "0.0.0.0/0,      203.0.113.9,                 true",
        "0.0.0.0/0,      ::ffff:203.0.113.9,          false",
        "0.0.0.0/0,      ::,                          false",
        "::/0,           0.0.0.0,                     false",
        "::/0,           2001:db8::1,                 true",
        "fd00::/64,      fd00::1,                     true",
        "fd00::/64,      fd00::ffff:ffff:ffff:ffff,   true",
        "fd00::/64,      fd00:0:0:1::,                false",
        "fd00::/7,       fdff::1,                     true",
        "fc00::/7,       fe00::1,                     false",
        "fd00::/127,     fd00::1,                     true",
        "fd00::/127,     fd00::2,                     false",
        "fd00::2/128,    fd00::2,                     true"})
    void containsAddress(String prefix, String address, boolean contained) {
        byte[] addr = io.netty.util.NetUtil.createByteArrayFromIpAddressString(address);
        assertEquals(contained, IpPrefix.parse(prefix).contains(addr));
    }

    @Test
    void containsNoAddressOfAnotherLength() {
        IpPrefix any = IpPrefix.parse("0.0.0.0/0");
        assertFalse(any.contains(new byte[0]));
        assertFalse(any.contains(new byte[5]));
        assertFalse(IpPrefix.parse("::/0").contains(new byte[4]));
    }

    /** network, other, contained. */
    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource({
        "10.8.0.0/16,   10.8.3.0/24,   true",
        "10.8.0.0/16,   10.8.0.0/16,   true",
        "10.8.0.0/16,   10.8.255.1/32, true",
        "10.8.0.0/24,   10.8.0.2/24,   true",
        "10.8.0.0/16,   10.0.0.0/8,    false",
        "10.8.0.0/16,   10.9.0.0/24,   false",
        "0.0.0.0/0,     10.0.0.0/8,    true",
        "0.0.0.0/0,     ::/0,          false",
        "::/0,          0.0.0.0/0,     false",
        "fd00::/8,      fd00:1::/32,   true",
        "fd00::/64,     fd00::/48,     false"})
    void containsPrefix(String network, String other, boolean contained) {
        assertEquals(contained, IpPrefix.parse(network).contains(IpPrefix.parse(other)));
    }

    @ParameterizedTest
    @CsvSource({
        "10.8.0.2/24,              10.8.0.0/24",
        "10.8.15.255/20,           10.8.0.0/20",
        "10.8.0.2/32,              10.8.0.2/32",
        "203.0.113.9/0,            0.0.0.0/0",
        "255.255.255.255/1,        128.0.0.0/1",
        "fd00::1:2:3:4/64,         fd00::/64",
        "2001:db8::ffff/113,       2001:db8::8000/113",
        "2001:db8::ffff/128,       2001:db8::ffff/128",
        "ffff:ffff:ffff:ffff::/0,  ::/0"})
    void network(String prefix, String network) {
        IpPrefix net = IpPrefix.parse(prefix).network();
        assertEquals(IpPrefix.parse(network), net);
        assertTrue(net.contains(IpPrefix.parse(prefix)));
        assertEquals(net, net.network());
    }

    @Test
    void familyAndInetAddress() throws Exception {
        IpPrefix v4 = IpPrefix.parse("10.8.0.2/24");
        assertFalse(v4.ipv6());
        assertEquals(InetAddress.getByAddress(new byte[] {10, 8, 0, 2}), assertInstanceOf(Inet4Address.class, v4.inetAddress()));

        IpPrefix v6 = IpPrefix.parse("fd00::2/64");
        assertTrue(v6.ipv6());
        assertEquals("fd00:0:0:0:0:0:0:2", assertInstanceOf(Inet6Address.class, v6.inetAddress()).getHostAddress());

        IpPrefix mapped = IpPrefix.parse("::ffff:10.1.2.3");
        assertTrue(mapped.ipv6());
        assertInstanceOf(Inet6Address.class, mapped.inetAddress(), "16 bytes stay IPv6");
    }

    @Test
    void constructorChecksAndCopies() {
        assertThrows(IllegalArgumentException.class, () -> new IpPrefix(null, 0));
        assertThrows(IllegalArgumentException.class, () -> new IpPrefix(new byte[0], 0));
        assertThrows(IllegalArgumentException.class, () -> new IpPrefix(new byte[5], 0));
        assertThrows(IllegalArgumentException.class, () -> new IpPrefix(new byte[4], -1));
        assertThrows(IllegalArgumentException.class, () -> new IpPrefix(new byte[4], 33));
        assertThrows(IllegalArgumentException.class, () -> new IpPrefix(new byte[16], 129));
        new IpPrefix(new byte[4], 32);
        new IpPrefix(new byte[16], 128);

        byte[] in = {10, 8, 0, 2};
        IpPrefix p = new IpPrefix(in, 24);
        in[3] = 3;
        p.address()[3] = 4;
        assertArrayEquals(new byte[] {10, 8, 0, 2}, p.address());
        assertEquals("10.8.0.2/24", p.toString());
    }

    @Test
    void equalsByContent() {
        assertEquals(new IpPrefix(new byte[] {10, 8, 0, 2}, 24), IpPrefix.parse("10.8.0.2/24"));
        assertEquals(new IpPrefix(new byte[] {10, 8, 0, 2}, 24).hashCode(), IpPrefix.parse("10.8.0.2/24").hashCode());
        assertNotEquals(IpPrefix.parse("10.8.0.2/24"), IpPrefix.parse("10.8.0.2/25"));
        assertNotEquals(IpPrefix.parse("10.8.0.2/24"), IpPrefix.parse("10.8.0.3/24"));
        assertNotEquals(IpPrefix.parse("0.0.0.0/0"), IpPrefix.parse("::/0"));
    }

    @Test
    void decodeLeavesFollowingBytes() {
        ByteBuf b = guard.buffer(Wire.hex("01 0a080002 18 99"));
        try {
            assertEquals(IpPrefix.parse("10.8.0.2/24"), IpPrefix.decode(b));
            assertEquals(1, b.readableBytes());
        } finally {
            b.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "00 0a080002 18", "02 0a080002 18", "03 0a080002 18", "05", "ff 0a080002 18", "01", "01 0a0800",
        "01 0a080002", "01 0a080002 21", "01 0a080002 ff", "04 fd0000000000000000000000000000",
        "04 fd000000000000000000000000000002", "04 fd000000000000000000000000000002 81"})
    void decodeMalformed(String hex) {
        ByteBuf b = guard.buffer(Wire.hex(hex));
        try {
            assertEquals(Reason.MALFORMED_ADDRESS, assertThrows(FrameException.class, () -> IpPrefix.decode(b)).reason());
        } finally {
            b.release();
        }
    }
}
