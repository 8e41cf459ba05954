package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sdt.codec.FrameException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Protocol violations: each one is a typed {@link FrameException}, closes the channel, delivers the
 * frames that came before it and nothing after it, and leaks no buffer.
 */
class FrameDecoderErrorTest {

    private static final int SMALL_MAX = 8192;

    @RegisterExtension
    final LeakGuard guard = new LeakGuard();

    /** Feeds {@code wire} in one read and asserts the decoder rejects it for {@code reason}. */
    private FrameException assertRejected(Reason reason, byte[] wire) {
        return assertRejected(reason, guard.codec(SMALL_MAX), wire);
    }

    private FrameException assertRejected(Reason reason, EmbeddedChannel ch, byte[] wire) {
        ByteBuf in = guard.buffer(wire);
        FrameException e = assertThrows(FrameException.class, () -> ch.writeInbound(in));
        assertEquals(reason, e.reason(), e.getMessage());
        assertFalse(ch.isOpen(), "channel must be closed");
        assertEquals(List.of(), Wire.readFrames(ch), "nothing may be decoded from a bad frame");
        assertEquals(0, in.refCnt());
        return e;
    }

    // ---- length prefix ----

    @Test
    void tooLongIsRejectedBeforeTheBodyArrives() {
        byte[] prefix = {(byte) 0x81, 0x40}; // 8193
        FrameException e = assertRejected(Reason.TOO_LONG, prefix);
        assertTrue(e.getMessage().contains("8193"), e.getMessage());
    }

    @Test
    void tooLongWithDefaultMaximum() {
        byte[] prefix = {(byte) 0x81, (byte) 0x80, 0x40}; // 2^20 + 1
        assertRejected(Reason.TOO_LONG, guard.codec(), prefix);
    }

    @Test
    void tooLongAtTheLargestVarint() {
        assertRejected(Reason.TOO_LONG, guard.codec(), Wire.hex("ffffff7f 13 01"));
    }

    @Test
    void exactlyTheMaximumIsAccepted() {
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        byte[] wire = Wire.encode(guard, new Frame.Data(1, guard.pattern(SMALL_MAX - 2)));
        ch.writeInbound(guard.buffer(wire));
        assertEquals(1, Wire.readFrames(ch).size());
        assertTrue(ch.isOpen());
    }

    @Test
    void tooLongAfterGoodFramesDeliversTheGoodOnesAndNothingAfter() {
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        byte[] good = Wire.encode(guard, new Frame.Ping(1), new Frame.Data(1, guard.pattern(300)));
        byte[] after = Wire.encode(guard, new Frame.Ping(2));
        ByteBuf in = guard.buffer(Wire.concat(good, new byte[] {(byte) 0x81, 0x40}, after));

        FrameException e = assertThrows(FrameException.class, () -> ch.writeInbound(in));
        assertEquals(Reason.TOO_LONG, e.reason());
        assertFalse(ch.isOpen());
        assertEquals(List.of(new Frame.Ping(1), Wire.data(1, 300)),
                Wire.readFrames(ch));
    }

    @Test
    void bytesArrivingAfterTheFailureAreDiscarded() {
        // A real transport can still deliver a read or two after close() was requested; hold the
        // close back once so that the decoder stays in the pipeline and sees them.
        AtomicInteger closes = new AtomicInteger();
        ChannelOutboundHandlerAdapter holdFirstClose = new ChannelOutboundHandlerAdapter() {
            @Override
            public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
                if (closes.getAndIncrement() == 0) {
                    promise.setSuccess();
                } else {
                    super.close(ctx, promise);
                }
            }
        };
        EmbeddedChannel ch = guard.channel(holdFirstClose, FrameEncoder.INSTANCE, new FrameDecoder(SMALL_MAX));
        ByteBuf bad = guard.buffer(new byte[] {(byte) 0x81, 0x40});
        assertEquals(Reason.TOO_LONG, assertThrows(FrameException.class, () -> ch.writeInbound(bad)).reason());
        assertEquals(1, closes.get(), "the decoder asked to close");
        assertFalse(ch.config().isAutoRead());

        ByteBuf late = guard.buffer(Wire.encode(guard, new Frame.Ping(3), new Frame.Data(1, guard.pattern(300))));
        ch.writeInbound(late);
        assertEquals(0, late.refCnt());
        assertEquals(List.of(), Wire.readFrames(ch));
    }

    @Test
    void emptyFrame() {
        assertRejected(Reason.MALFORMED_FRAME, new byte[] {0});
    }

    @Test
    void fiveByteLengthPrefix() {
        assertRejected(Reason.BAD_VARINT, Wire.hex("80 80 80 80 01"));
    }

    @Test
    void fourContinuationBytesFailWithoutWaitingForAFifth() {
        assertRejected(Reason.BAD_VARINT, Wire.hex("ff ff ff ff"));
    }

    @Test
    void incompleteLengthPrefixWaits() {
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        ch.writeInbound(guard.buffer(Wire.hex("82 80")));
        assertEquals(List.of(), Wire.readFrames(ch));
        assertTrue(ch.isOpen());
    }

    @Test
    void nonMinimalVarintsAreAccepted() {
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        ch.writeInbound(guard.buffer(Wire.hex("83 00 15 81 00")));
        assertEquals(List.of(new Frame.Eof(1)), Wire.readFrames(ch));
    }

    // ---- type ----

    static IntStream unknownTypes() {
        return IntStream.range(0, 256).filter(c -> FrameType.of(c) == null);
    }

    @ParameterizedTest(name = "type 0x{0}")
    @MethodSource("unknownTypes")
    void unknownType(int code) {
        assertRejected(Reason.UNKNOWN_TYPE, Wire.framed(new byte[] {(byte) code, 1, 2, 3}));
    }

    // ---- varints inside the frame ----

    @ParameterizedTest
    @ValueSource(strings = {
        "13 80",             // DATA: channel id cut by the frame end
        "15 ff ff ff",       // EOF: channel id cut after three bytes
        "10 81 80",          // OPEN: channel id cut
        "13 80 80 80 80 01", // DATA: five-byte channel id
        "14 80 80 80 80 00", // WINDOW: five-byte channel id
        "08 80",             // BIND: tunnel id cut
        "09 ff ff ff ff 01", // BIND_OK: five-byte tunnel id
        "0a 80",             // BIND_FAIL: tunnel id cut
        "10 01 81",          // OPEN: tunnel id cut
        "10 01 01 ff",       // OPEN: window cut
        "11 01 80",          // OPEN_OK: window cut
        "14 01 ff ff ff ff 01", // WINDOW: five-byte increment
        "1a 80",             // VPN_CONFIG: channel id cut
        "1a 80 80 80 80 01"  // VPN_CONFIG: five-byte channel id
    })
    void badVarint(String body) {
        assertRejected(Reason.BAD_VARINT, Wire.framed(body));
    }

    // ---- addresses (BIND tunnel 7, tcp, then the address) ----

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "missing family                | ",
        "family 0                      | 00 7f000001 0050",
        "family 2                      | 02 7f000001 0050",
        "family 5                      | 05 7f000001 0050",
        "family 255                    | ff 7f000001 0050",
        "truncated IPv4                | 01 7f0000 0050",
        "IPv4 without port             | 01 7f000001",
        "IPv4 with half a port         | 01 7f000001 00",
        "truncated IPv6                | 04 000000000000000000000000000001 0050",
        "IPv6 without port             | 04 00000000000000000000000000000001",
        "missing name length           | 03",
        "zero-length name              | 03 00 0050",
        "truncated name                | 03 05 616263 0050",
        "name without port             | 03 03 616263",
        "name with a space             | 03 03 612062 0050",
        "name with a slash             | 03 03 612f62 0050",
        "name with a colon             | 03 03 3a3a31 0050",
        "name with a percent           | 03 03 61253f 0050",
        "name with NUL                 | 03 03 610062 0050",
        "name with non-ASCII (UTF-8 e) | 03 03 61c3a9 0050",
        "name with invalid UTF-8       | 03 03 61ff62 0050"})
    void malformedAddress(String what, String address) {
        String body = "08 07 00 00 00 " + (address == null ? "" : address);
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed(body));
    }

    @Test
    void malformedAddressInOpenAndBindOk() {
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed("10 01 00 00 00 06 7f000001 0050"));
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed("09 07 03 00 0050"));
    }

    // ---- VPN_CONFIG (channel 1, client id 00..0f, mtu 1400, no features, then the lists) ----

    private static final String VPN_HEAD = "1a 01 000102030405060708090a0b0c0d0e0f 0578 00 ";

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "missing family             | ",
        "family 0                   | 00 0a080002 18",
        "family 2                   | 02 0a080002 18",
        "family 3 (a name)          | 03 0a080002 18",
        "family 5                   | 05 0a080002 18",
        "family 255                 | ff 0a080002 18",
        "IPv4 /33                   | 01 0a080002 21",
        "IPv4 /255                  | 01 0a080002 ff",
        "IPv6 /129                  | 04 fd000000000000000000000000000002 81",
        "truncated IPv4             | 01 0a0800",
        "IPv4 without length        | 01 0a080002",
        "truncated IPv6             | 04 fd0000000000000000000000000000",
        "IPv6 without length        | 04 fd000000000000000000000000000002"})
    void malformedPrefix(String what, String prefix) {
        String p = prefix == null ? "" : prefix;
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed(VPN_HEAD + "01 " + p));                 // an address
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed(VPN_HEAD + "02 01 0a080002 18 " + p));  // the second
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed(VPN_HEAD + "00 01 " + p));              // a route
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed(VPN_HEAD + "01 01 0a080002 18 02 01 0a090000 10 " + p));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "11 00",             // 17 addresses
        "ff 00",             // 255 addresses
        "11"                 // 17 addresses, nothing after the count
    })
    void vpnConfigWithTooManyAddresses(String lists) {
        FrameException e = assertRejected(Reason.MALFORMED_FRAME, Wire.framed(VPN_HEAD + lists));
        assertTrue(e.getMessage().contains("at most 16"), e.getMessage());
    }

    @Test
    void vpnConfigFeatureBitsAreOffersNotErrors() {
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        ch.writeInbound(guard.buffer(Wire.framed("1a 01 000102030405060708090a0b0c0d0e0f 0578 ff 00 00")));
        Frame.VpnConfig v = (Frame.VpnConfig) Wire.readFrames(ch).getFirst();
        assertEquals(0xFF, v.features(), "every bit kept for the engine, which takes only those it knows");
    }

    @Test
    void vpnConfigWithTheMostAddressesIsAccepted() {
        String sixteen = ("01 0a080002 18 ").repeat(Frame.VPN_MAX_ADDRESSES);
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        ch.writeInbound(guard.buffer(Wire.framed(VPN_HEAD + "10 " + sixteen + "00")));
        Frame.VpnConfig v = (Frame.VpnConfig) Wire.readFrames(ch).getFirst();
        assertEquals(Frame.VPN_MAX_ADDRESSES, v.addresses().size());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "1a 01",                                // no client id
        "1a 01 000102030405060708090a0b0c0d0e", // a 15-byte client id
        "1a 01 000102030405060708090a0b0c0d0e0f",      // no mtu
        "1a 01 000102030405060708090a0b0c0d0e0f 05",   // half an mtu
        "1a 01 000102030405060708090a0b0c0d0e0f 0578", // no features
        "1a 01 000102030405060708090a0b0c0d0e0f 0578 01", // no address count
        "1a 01 000102030405060708090a0b0c0d0e0f 0578 00 00", // no route count
        "1a 01 000102030405060708090a0b0c0d0e0f 0578 00 01 01 0a080002 18" // no route count after an address
    })
    void truncatedVpnConfig(String body) {
        FrameException e = assertRejected(Reason.MALFORMED_FRAME, Wire.framed(body));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void vpnConfigWithFewerPrefixesThanItsCount() {
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed(VPN_HEAD + "02 01 0a080002 18"));
        assertRejected(Reason.MALFORMED_ADDRESS, Wire.framed(VPN_HEAD + "00 03 01 0a090000 10 01 0a0a0000 10"));
    }

    // ---- body length and fields ----

    @ParameterizedTest
    @ValueSource(strings = {
        "04 00",                      // AUTH_OK with a body
        "06 0102030405060708 09",     // PING with nine bytes
        "07 0102030405060708 09",     // PONG with nine bytes
        "15 01 00",                   // EOF with a body
        "16 01 00 00",                // CLOSE with two code bytes
        "14 01 01 00",                // WINDOW with a trailing byte
        "11 01 01 00",                // OPEN_OK with a trailing byte
        "10 01 00 00 00 01 7f000001 0050 00", // OPEN after its address
        "08 07 00 00 00 01 7f000001 0050 00", // BIND after its address
        "09 07 01 7f000001 0050 00",          // BIND_OK after its address
        "1a 01 000102030405060708090a0b0c0d0e0f 0000 00 00 00 00",          // VPN_CONFIG after its lists
        "1a 01 000102030405060708090a0b0c0d0e0f 0000 00 00 01 01 0a090000 10 00" // VPN_CONFIG after a route
    })
    void trailingBytes(String body) {
        FrameException e = assertRejected(Reason.MALFORMED_FRAME, Wire.framed(body));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    }

    @Test
    void trailingBytesAfterFixedSizeBodies() {
        byte[] hello = Wire.concat(Wire.hex("01 01"), FrameFixtures.nonce(0), new byte[1]);
        byte[] challenge = Wire.concat(Wire.hex("02"), FrameFixtures.nonce(0), FrameFixtures.nonce(0), new byte[1]);
        byte[] auth = Wire.concat(Wire.hex("03"), FrameFixtures.nonce(0), new byte[1]);
        for (byte[] body : List.of(hello, challenge, auth)) {
            assertRejected(Reason.MALFORMED_FRAME, Wire.framed(body));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "01",             // HELLO without version
        "06 01020304050607", // PING with seven bytes
        "07",             // PONG without payload
        "05",             // GOAWAY without code
        "0a 07",          // BIND_FAIL without code
        "12 01",          // OPEN_FAIL without code
        "16 01",          // CLOSE without code
        "10 01 00 00",    // OPEN without flags
        "08 07"           // BIND without flags
    })
    void truncatedFixedFields(String body) {
        FrameException e = assertRejected(Reason.MALFORMED_FRAME, Wire.framed(body));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedNoncesAndProofs() {
        byte[] nonce31 = new byte[Frame.NONCE_LENGTH - 1];
        byte[] hello = Wire.concat(Wire.hex("01 01"), nonce31);
        byte[] challenge = Wire.concat(Wire.hex("02"), FrameFixtures.nonce(0), nonce31);
        byte[] auth = Wire.concat(Wire.hex("03"), nonce31);
        for (byte[] body : List.of(hello, challenge, auth)) {
            assertRejected(Reason.MALFORMED_FRAME, Wire.framed(body));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "10 01 00 00 05 01 7f000001 0050", // OPEN early on UDP
        "10 01 00 00 06 01 7f000001 0050", // OPEN early on push
        "10 01 00 00 84 01 00000000 0000", // OPEN vpn with early
        "10 01 00 00 81 01 7f000001 0050", // OPEN vpn with udp
        "10 01 00 00 82 01 7f000001 0050", // OPEN vpn with push
        "10 01 00 00 88 01 7f000001 0050", // OPEN vpn with sole
        "10 01 00 00 a0 01 00000000 0000 01 7f000001 0050", // OPEN vpn with an origin
        "10 01 00 00 c0 01 00000000 0000", // OPEN vpn with relp
        "10 01 00 00 c2 01 00000000 0000", // OPEN vpn with relp and push
        "10 01 00 00 40 01 7f000001 0050", // OPEN relp without push
        "10 01 00 00 43 01 7f000001 0050", // OPEN relp on a UDP push channel
        "10 01 00 00 ff 01 7f000001 0050", // OPEN flags 0xff
        "08 07 11 00 00 01 7f000001 0050", // BIND dynamic with udp
        "08 07 12 00 00 01 7f000001 0050", // BIND dynamic with push
        "08 07 14 00 00 01 7f000001 0050 01 7f000001 0050", // BIND dynamic with peer
        "08 07 20 00 00 01 7f000001 0050", // BIND optimistic without dynamic
        "08 07 40 00 00 01 7f000001 0050", // BIND flags 0x40
        "10 01 00 00 10 01 7f000001 0050", // OPEN proxy-protocol without an origin
        "10 01 00 00 31 01 7f000001 0050 01 7f000001 0050", // OPEN proxy-protocol on UDP
        "10 01 00 00 32 01 7f000001 0050 01 7f000001 0050", // OPEN proxy-protocol on push
        "10 01 00 00 90 01 00000000 0000"  // OPEN vpn with proxy-protocol
    })
    void unknownFlags(String body) {
        FrameException e = assertRejected(Reason.MALFORMED_FRAME, Wire.framed(body));
        assertTrue(e.getMessage().contains("flags"), e.getMessage());
    }

    // ---- ordering ----

    @Test
    void framesBeforeABadOneAreDeliveredAndNothingAfter() {
        Frame.Open open = new Frame.Open(1, 1, 1024, false, FrameFixtures.NAME);
        byte[] good = Wire.encode(guard, open, new Frame.Data(1, guard.pattern(500)),
                new Frame.Data(1, guard.pattern(3)));
        byte[] bad = Wire.framed("0d");
        byte[] after = Wire.encode(guard, new Frame.Eof(1), new Frame.Data(1, guard.pattern(400)));
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        ByteBuf in = guard.buffer(Wire.concat(good, bad, after));

        FrameException e = assertThrows(FrameException.class, () -> ch.writeInbound(in));
        assertEquals(Reason.UNKNOWN_TYPE, e.reason());
        assertFalse(ch.isOpen());
        assertEquals(List.of(open,
                Wire.data(1, 500),
                Wire.data(1, 3)), Wire.readFrames(ch));
    }

    @Test
    void framesFromEarlierReadsStayDeliveredWhenALaterReadIsBad() {
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        ch.writeInbound(guard.buffer(Wire.encode(guard, new Frame.Ping(1))));
        // the second read completes a DATA frame and then carries a bad one
        byte[] data = Wire.encode(guard, new Frame.Data(1, guard.pattern(300)));
        ch.writeInbound(guard.buffer(data, 0, 100));
        ByteBuf in = guard.buffer(Wire.concat(Arrays.copyOfRange(data, 100, data.length), Wire.framed("13 80")));

        FrameException e = assertThrows(FrameException.class, () -> ch.writeInbound(in));
        assertEquals(Reason.BAD_VARINT, e.reason());
        assertEquals(List.of(new Frame.Ping(1), Wire.data(1, 300)),
                Wire.readFrames(ch));
        assertFalse(ch.isOpen());
    }

    @Test
    void byteByByteFailureClosesAtTheBadByte() {
        byte[] badFlags = Wire.framed("10 01 00 00 05 01 7f000001 0050"); // early on UDP
        byte[] wire = Wire.concat(Wire.encode(guard, new Frame.Ping(7)), badFlags);
        EmbeddedChannel ch = guard.codec(SMALL_MAX);
        int last = wire.length - 1;
        for (int i = 0; i < last; i++) {
            ch.writeInbound(guard.buffer(wire, i, 1));
        }
        assertEquals(List.of(new Frame.Ping(7)), Wire.readFrames(ch));
        assertTrue(ch.isOpen());
        assertRejected(Reason.MALFORMED_FRAME, ch, new byte[] {wire[last]});
    }

    // ---- configuration ----

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 64, FrameDecoder.MIN_MAX_FRAME_LENGTH - 1, Varint.MAX_VALUE + 1, Integer.MAX_VALUE})
    void maxFrameLengthOutOfRange(int max) {
        assertThrows(IllegalArgumentException.class, () -> new FrameDecoder(max));
    }

    @Test
    void maxFrameLengthBounds() {
        new FrameDecoder(FrameDecoder.MIN_MAX_FRAME_LENGTH);
        new FrameDecoder(Varint.MAX_VALUE);
        assertEquals(1 << 20, FrameDecoder.DEFAULT_MAX_FRAME_LENGTH);
    }
}
