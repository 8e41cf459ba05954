package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.sdt.codec.FrameException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostPortTest {

    @RegisterExtension
    final LeakGuard guard = new LeakGuard();

    /** host, port, expected encoding, host after decoding. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "127.0.0.1,      80,    01 7f000001 0050,                              127.0.0.1",
        "0.0.0.0,        0,     01 00000000 0000,                              0.0.0.0",
        "255.255.255.255,65535, 01 ffffffff ffff,                              255.255.255.255",
        "::1,            443,   04 00000000000000000000000000000001 01bb,      ::1",
        "::,             1,     04 00000000000000000000000000000000 0001,      ::",
        "2001:DB8::a:1,  8443,  04 20010db80000000000000000000a0001 20fb,      2001:db8::a:1",
        "[2001:db8::1],  22,    04 20010db8000000000000000000000001 0016,      2001:db8::1",
        "fe80::1%eth0,   22,    04 fe800000000000000000000000000001 0016,      fe80::1",
        "localhost,      8080,  03 09 6c6f63616c686f7374 1f90,                 localhost",
        "a,              1,     03 01 61 0001,                                 a",
        "db-1.internal_, 5432,  03 0e 64622d312e696e7465726e616c5f 1538,       db-1.internal_",
        "1.2.3,          53,    03 05 312e322e33 0035,                         1.2.3"})
    void encodeDecode(String host, int port, String hex, String decodedHost) {
        HostPort hp = new HostPort(host, port);
        ByteBuf b = guard.writable(300);
        try {
            hp.encode(b);
            assertEquals(hex.replace(" ", ""), ByteBufUtil.hexDump(b));
            assertEquals(b.readableBytes(), hp.encodedSize());
            assertEquals(new HostPort(decodedHost, port), HostPort.decode(b));
            assertEquals(0, b.readableBytes());
        } finally {
            b.release();
        }
    }

    @Test
    void longestName() {
        HostPort hp = new HostPort(FrameFixtures.longestName(), 65535);
        ByteBuf b = guard.writable(300);
        try {
            hp.encode(b);
            assertEquals(1 + 1 + 255 + 2, b.readableBytes());
            assertEquals(b.readableBytes(), hp.encodedSize());
            assertEquals(0xff, b.getUnsignedByte(1));
            assertEquals(hp, HostPort.decode(b));
        } finally {
            b.release();
        }
    }

    @Test
    void decodeLeavesFollowingBytes() {
        ByteBuf b = guard.buffer(Wire.hex("01 0a000001 0016 99"));
        try {
            assertEquals(new HostPort("10.0.0.1", 22), HostPort.decode(b));
            assertEquals(1, b.readableBytes());
        } finally {
            b.release();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "02", "01 0a0000", "04 00", "03", "03 00 0016", "03 02 61", "03 02 612a 0016"})
    void decodeMalformed(String hex) {
        ByteBuf b = guard.buffer(Wire.hex(hex));
        try {
            assertEquals(Reason.MALFORMED_ADDRESS,
                    assertThrows(FrameException.class, () -> HostPort.decode(b)).reason());
        } finally {
            b.release();
        }
    }

    @ParameterizedTest
    @CsvSource({
        "127.0.0.1,     80,  127.0.0.1:80",
        "::1,           443, [::1]:443",
        "2001:db8::1,   0,   [2001:db8::1]:0",
        "example.com,   22,  example.com:22"})
    void toStringBracketsIpv6(String host, int port, String text) {
        assertEquals(text, new HostPort(host, port).toString());
    }

    @Test
    void constructorRejectsBadValues() {
        assertThrows(IllegalArgumentException.class, () -> new HostPort(null, 1));
        assertThrows(IllegalArgumentException.class, () -> new HostPort("", 1));
        assertThrows(IllegalArgumentException.class, () -> new HostPort("a", -1));
        assertThrows(IllegalArgumentException.class, () -> new HostPort("a", 65536));
        assertThrows(IllegalArgumentException.class, () -> new HostPort(FrameFixtures.longestName() + "x", 1));
    }

    /** A name the decoder would refuse must not get as far as the wire. */
    @ParameterizedTest
    @ValueSource(strings = {"a b", "a/b", "bücher.de", "host:80", "a@b", "tab\there", "a%b", "x\u0000"})
    void constructorRejectsNamesTheDecoderWouldRefuse(String host) {
        assertThrows(IllegalArgumentException.class, () -> new HostPort(host, 1));
    }

    @Test
    void ipLiterals() {
        assertTrue(new HostPort("10.1.2.3", 1).isIpLiteral());
        assertTrue(new HostPort("::ffff:10.1.2.3", 1).isIpLiteral());
        assertFalse(new HostPort("example.com", 1).isIpLiteral());
        assertFalse(new HostPort("1.2.3", 1).isIpLiteral());
    }

    @Test
    void toSocketAddressNeverResolvesNames() throws Exception {
        InetSocketAddress v4 = new HostPort("10.1.2.3", 80).toSocketAddress();
        assertFalse(v4.isUnresolved());
        assertEquals(InetAddress.getByAddress(new byte[] {10, 1, 2, 3}), v4.getAddress());
        assertEquals(80, v4.getPort());

        InetSocketAddress v6 = new HostPort("::1", 443).toSocketAddress();
        assertFalse(v6.isUnresolved());
        assertTrue(v6.getAddress().isLoopbackAddress());

        InetSocketAddress name = new HostPort("never-resolved.invalid", 8080).toSocketAddress();
        assertTrue(name.isUnresolved());
        assertEquals("never-resolved.invalid", name.getHostString());
    }

    @Test
    void ofSocketAddress() throws Exception {
        assertEquals(new HostPort("10.1.2.3", 80),
                HostPort.of(new InetSocketAddress(InetAddress.getByAddress(new byte[] {10, 1, 2, 3}), 80)));
        byte[] v6 = new byte[16];
        v6[15] = 1;
        assertEquals(new HostPort("::1", 22), HostPort.of(new InetSocketAddress(InetAddress.getByAddress(v6), 22)));
        assertEquals(new HostPort("db.internal", 5432),
                HostPort.of(InetSocketAddress.createUnresolved("db.internal", 5432)));
    }

    @Test
    void familyConstants() {
        assertEquals(1, HostPort.FAMILY_IPV4);
        assertEquals(3, HostPort.FAMILY_DOMAIN);
        assertEquals(4, HostPort.FAMILY_IPV6);
    }
}
