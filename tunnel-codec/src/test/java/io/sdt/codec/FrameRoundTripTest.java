package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every frame type through {@link FrameEncoder} and back through {@link FrameDecoder}. */
class FrameRoundTripTest {

    @RegisterExtension
    final LeakGuard guard = new LeakGuard();

    static Stream<Arguments> fixtures() {
        return FrameFixtures.all().entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void roundTrip(String name, Function<LeakGuard, Frame> fixture) {
        Frame frame = fixture.apply(guard);
        Object expected = Wire.view(frame);
        EmbeddedChannel ch = guard.codec();

        ch.writeOutbound(frame);
        ByteBuf wire;
        while ((wire = ch.readOutbound()) != null) {
            ch.writeInbound(wire);
        }

        assertEquals(List.of(expected), Wire.readFrames(ch));
        assertTrue(ch.isOpen());
    }

    @Test
    void soleDatagramSpendsNoChannelIdBytes() {
        io.netty.channel.embedded.EmbeddedChannel ch = new io.netty.channel.embedded.EmbeddedChannel(FrameEncoder.INSTANCE);
        ch.writeOutbound(new Frame.SoleDatagram(io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {(byte) 0xaa, (byte) 0xbb, (byte) 0xcc})));
        io.netty.buffer.ByteBuf out = ch.readOutbound();
        assertEquals("040baabbcc", io.netty.buffer.ByteBufUtil.hexDump(out), "length, type, payload: 2 bytes of overhead");
        out.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void fixturesCoverEveryFrameType() {
        Set<FrameType> seen = FrameFixtures.all().values().stream()
                .map(f -> {
                    Frame frame = f.apply(guard);
                    Wire.releaseAll(List.of(frame));
                    return frame.type();
                })
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(FrameType.class)));
        assertEquals(EnumSet.allOf(FrameType.class), seen);
        assertEquals(23, FrameType.values().length);
    }

    /** The byte layouts in docs/PROTOCOL.md, one per frame type. */
    static Stream<Arguments> golden() {
        String n1 = Wire.hex(FrameFixtures.nonce(1));
        String n2 = Wire.hex(FrameFixtures.nonce(2));
        return Stream.of(
                Arguments.of(new Frame.Hello(1, FrameFixtures.nonce(1)), "22 01 01" + n1),
                Arguments.of(new Frame.Challenge(FrameFixtures.nonce(1), FrameFixtures.nonce(2)), "41 02" + n1 + n2),
                Arguments.of(new Frame.Auth(FrameFixtures.nonce(2)), "21 03" + n2),
                Arguments.of(new Frame.AuthOk(), "01 04"),
                Arguments.of(new Frame.GoAway(ErrorCode.SHUTDOWN, "bye"), "05 05 0a 627965"),
                Arguments.of(new Frame.Ping(0x0102030405060708L), "09 06 0102030405060708"),
                Arguments.of(new Frame.Pong(-1), "09 07 ffffffffffffffff"),
                Arguments.of(new Frame.Bind(7, true, new HostPort("127.0.0.1", 8080)), "0c 08 07 01 00 00 01 7f000001 1f90"),
                Arguments.of(new Frame.Bind(7, false, false, false, 0, 0, new HostPort("127.0.0.1", 1080), null, true, true),
                        "0c 08 07 30 00 00 01 7f000001 0438"),
                Arguments.of(new Frame.Bind(7, true, 60_000, 300, new HostPort("127.0.0.1", 8080)),
                        "0f 08 07 01 e0d403 ac02 01 7f000001 1f90"),
                Arguments.of(new Frame.BindOk(300, new HostPort("::1", 443)),
                        "16 09 ac02 04 00000000000000000000000000000001 01bb"),
                Arguments.of(new Frame.BindFail(7, ErrorCode.DENIED, "no"), "05 0a 07 02 6e6f"),
                Arguments.of(new Frame.Unbind(300), "03 0c ac02"),
                Arguments.of(new Frame.Open(1, 2, 1, false, false, false, new HostPort("10.0.0.1", 80),
                        new HostPort("127.0.0.1", 40000)), "13 10 01 02 01 20 01 0a000001 0050 01 7f000001 9c40"),
                Arguments.of(new Frame.Open(1, 2, 65_536, false, new HostPort("example.com", 443)),
                        "16 10 01 02 808004 00 03 0b 6578616d706c652e636f6d 01bb"),
                Arguments.of(new Frame.Open(4, 1, 65_536, false, true, false, new HostPort("127.0.0.1", 2514), null,
                        true), "0e 10 04 01 808004 42 01 7f000001 09d2"),
                Arguments.of(new Frame.OpenOk(2, 1 << 20), "05 11 02 808040"),
                Arguments.of(new Frame.OpenFail(3, ErrorCode.REFUSED, "x"), "04 12 03 03 78"),
                Arguments.of(new Frame.Window(128, 16_384), "06 14 8001 808001"),
                Arguments.of(new Frame.Eof(5), "02 15 05"),
                Arguments.of(new Frame.Close(5, ErrorCode.TIMEOUT), "03 16 05 05"),
                Arguments.of(new Frame.Close(5, ErrorCode.RESET), "03 16 05 0c"),
                Arguments.of(new Frame.PushSeq(3, FrameFixtures.spoolId(), 0x0102030405060708L),
                        "1a 18 03 000102030405060708090a0b0c0d0e0f 0102030405060708"),
                Arguments.of(new Frame.PushAck(3, 300), "0a 19 03 000000000000012c"),
                Arguments.of(Frame.Open.vpn(1, 2), "0c 10 01 02 00 80 01 00000000 0000"),
                Arguments.of(new Frame.Open(1, 2, 0, false, false, false, new HostPort("127.0.0.1", 80),
                        new HostPort("203.0.113.7", 5555), false, false, true),
                        "13 10 01 02 00 30 01 7f000001 0050 01 cb007107 15b3"),
                Arguments.of(new Frame.Open(1, 2, 65_536, false, false, false, new HostPort("10.0.0.1", 80), null,
                        false, false, false, true), "0e 10 01 02 808004 04 01 0a000001 0050"),
                Arguments.of(new Frame.VpnConfig(1, FrameFixtures.clientId(), 0, List.of(), List.of()),
                        "17 1a 01 000102030405060708090a0b0c0d0e0f 0000 00 00 00"),
                Arguments.of(new Frame.VpnConfig(1, FrameFixtures.clientId(), 1400, FrameFixtures.prefixes("10.8.0.2/24"),
                        FrameFixtures.prefixes("10.9.0.0/16")),
                        "23 1a 01 000102030405060708090a0b0c0d0e0f 0578 00 01 01 0a080002 18 01 01 0a090000 10"),
                Arguments.of(new Frame.VpnConfig(2, FrameFixtures.clientId(), 1280, Frame.VPN_OFFLOAD,
                        FrameFixtures.prefixes("10.8.0.2/24", "fd00::2/64"), FrameFixtures.prefixes("::/0")),
                        "41 1a 02 000102030405060708090a0b0c0d0e0f 0500 01 02 01 0a080002 18"
                                + " 04 fd000000000000000000000000000002 40 01 04 00000000000000000000000000000000 00"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("golden")
    void goldenBytes(Frame frame, String hex) {
        byte[] expected = Wire.hex(hex);
        assertEquals(Wire.hex(expected), Wire.hex(Wire.encode(guard, frame)));

        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(expected));
        assertEquals(List.of(frame), Wire.readFrames(ch));
    }

    @Test
    void goldenPayloadBytes() {
        assertEquals("04130168" + "69", Wire.hex(Wire.encode(guard,
                new Frame.Data(1, guard.buffer("hi".getBytes(StandardCharsets.US_ASCII))))));
        assertEquals("0513ffffff7f", Wire.hex(Wire.encode(guard, new Frame.Data(Varint.MAX_VALUE, guard.pattern(0)))));
        assertEquals("031702ff", Wire.hex(Wire.encode(guard, new Frame.Datagram(2, guard.buffer(new byte[] {-1})))));
        byte[] big = Wire.encode(guard, new Frame.Data(1, guard.pattern(16 * 1024)));
        assertEquals("82800113" + "01", Wire.hex(big).substring(0, 10));
    }

    @ParameterizedTest
    @EnumSource(ErrorCode.class)
    void everyErrorCode(ErrorCode code) {
        List<Frame> frames = List.of(new Frame.Close(1, code), new Frame.GoAway(code, code.name()),
                new Frame.OpenFail(2, code, ""), new Frame.BindFail(3, code, "m"));
        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(Wire.encode(guard, frames.toArray(Frame[]::new))));
        assertEquals(frames, Wire.readFrames(ch));
    }

    @Test
    void unknownErrorCodeDecodesAsGeneral() {
        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(Wire.framed("16 05 c8")));
        assertEquals(List.of(new Frame.Close(5, ErrorCode.GENERAL)), Wire.readFrames(ch));
    }

    @Test
    void nullMessageIsSentAsEmpty() {
        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(Wire.encode(guard, new Frame.GoAway(ErrorCode.NONE, null))));
        assertEquals(List.of(new Frame.GoAway(ErrorCode.NONE, "")), Wire.readFrames(ch));
    }

    @Test
    void longMessageIsCut() {
        String text = "x".repeat(FrameEncoder.MAX_MESSAGE_BYTES + 500);
        byte[] wire = Wire.encode(guard, new Frame.OpenFail(Varint.MAX_VALUE, ErrorCode.GENERAL, text));
        assertEquals(2 + 1 + 4 + 1 + FrameEncoder.MAX_MESSAGE_BYTES, wire.length);

        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(wire));
        Frame.OpenFail fail = (Frame.OpenFail) Wire.readFrames(ch).getFirst();
        assertEquals(FrameEncoder.MAX_MESSAGE_BYTES, fail.message().length());
    }

    /** Wire bytes per frame beyond the payload; docs/PROTOCOL.md has the same table. */
    @ParameterizedTest(name = "payload {0}, channel {1}: {2} bytes")
    @CsvSource({
        "0, 1, 3",
        "64, 1, 3",
        "125, 1, 3",
        "126, 1, 4",
        "1400, 1, 4",
        "1400, 128, 5",
        "16381, 1, 4",
        "16382, 1, 5",
        "16384, 1, 5",
        "16384, 127, 5",
        "16384, 128, 6",
        "16384, 16384, 7",
        "16384, 268435455, 8",
        "65507, 1, 5",
        "1048574, 1, 5"})
    void payloadOverhead(int payload, int channel, int overhead) {
        byte[] data = Wire.encode(guard, new Frame.Data(channel, guard.pattern(payload)));
        byte[] datagram = Wire.encode(guard, new Frame.Datagram(channel, guard.pattern(payload)));
        assertEquals(payload + overhead, data.length);
        assertEquals(payload + overhead, datagram.length);
    }

    @Test
    void smallPayloadIsCopiedBehindTheHeader() {
        ByteBuf payload = guard.pattern(FrameEncoder.COPY_THRESHOLD);
        EmbeddedChannel ch = guard.channel(FrameEncoder.INSTANCE);
        ch.writeOutbound(new Frame.Data(1, payload));

        ByteBuf only = ch.readOutbound();
        assertEquals(4 + FrameEncoder.COPY_THRESHOLD, only.readableBytes());
        only.release();
        assertNull(ch.readOutbound());
        assertEquals(0, payload.refCnt());
    }

    @Test
    void largePayloadIsPassedOnWithoutCopy() {
        ByteBuf payload = guard.pattern(FrameEncoder.COPY_THRESHOLD + 1);
        EmbeddedChannel ch = guard.channel(FrameEncoder.INSTANCE);
        ch.writeOutbound(new Frame.Data(1, payload));

        ByteBuf header = ch.readOutbound();
        assertEquals("8302" + "1301", Wire.hex(ByteBufUtil.getBytes(header)));
        header.release();
        ByteBuf body = ch.readOutbound();
        assertSame(payload, body);
        assertEquals(1, payload.refCnt());
        body.release();
        assertNull(ch.readOutbound());
    }

    @Test
    void decodedPayloadIsASliceOfTheReceivedBuffer() {
        ByteBuf in = guard.buffer(Wire.encode(guard, new Frame.Data(3, guard.pattern(1000))));
        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(in);

        Frame.Data data = ch.readInbound();
        try {
            assertTrue(data.content().hasArray());
            assertSame(in.array(), data.content().array());
            assertEquals(1000, data.content().readableBytes());
        } finally {
            data.release();
        }
    }

    @Test
    void largestFrameUnderTheDefaultMaximum() {
        int payload = FrameDecoder.DEFAULT_MAX_FRAME_LENGTH - 2;
        ByteBuf in = guard.buffer(Wire.encode(guard, new Frame.Data(1, guard.pattern(payload))));
        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(in);

        Frame.Data data = assertInstanceOf(Frame.Data.class, ch.readInbound());
        assertEquals(payload, data.content().readableBytes());
        data.release();
    }

    @Test
    void largestControlFrameFitsTheSmallestMaximum() {
        Frame open = new Frame.Open(Varint.MAX_VALUE, Varint.MAX_VALUE, Varint.MAX_VALUE, true,
                FrameFixtures.NAME_LONGEST);
        Frame fail = new Frame.OpenFail(Varint.MAX_VALUE, ErrorCode.GENERAL, "m".repeat(5000));
        Frame bindFail = new Frame.BindFail(Varint.MAX_VALUE, ErrorCode.GENERAL, "m".repeat(5000));
        Frame goAway = new Frame.GoAway(ErrorCode.GENERAL, "m".repeat(5000));
        Frame challenge = new Frame.Challenge(FrameFixtures.nonce(0), FrameFixtures.nonce(0));
        List<Frame> frames = List.of(open, fail, bindFail, goAway, challenge, FrameFixtures.vpnLargest());

        EmbeddedChannel ch = guard.codec(FrameDecoder.MIN_MAX_FRAME_LENGTH);
        ch.writeInbound(guard.buffer(Wire.encode(guard, frames.toArray(Frame[]::new))));
        assertEquals(6, Wire.readFrames(ch).size());
        assertTrue(ch.isOpen());
    }

    @Test
    void smallestMaximumIsTheLargestVpnConfig() {
        byte[] wire = Wire.encode(guard, FrameFixtures.vpnLargest());
        assertEquals(4904, FrameDecoder.MIN_MAX_FRAME_LENGTH);
        assertEquals(2 + FrameDecoder.MIN_MAX_FRAME_LENGTH, wire.length, "two bytes of length prefix, then the frame");
    }

    @Test
    void payloadFrameKeepsChannelOnReplace() {
        Frame.Data data = new Frame.Data(42, guard.pattern(3));
        Frame.Data copy = data.replace(guard.pattern(4));
        assertEquals(42, copy.channel());
        assertEquals("Data[channel=42, bytes=4]", copy.toString());
        Frame.Datagram dg = new Frame.Datagram(43, guard.pattern(1));
        Frame.Datagram dgCopy = dg.replace(guard.pattern(2));
        assertEquals(43, dgCopy.channel());
        Wire.releaseAll(List.of(data, copy, dg, dgCopy));
    }

    @Test
    void roundTripsByteArrayFieldsByValue() {
        byte[] nonce = FrameFixtures.nonce(9);
        EmbeddedChannel ch = guard.codec();
        ch.writeInbound(guard.buffer(Wire.encode(guard, new Frame.Auth(nonce))));
        Frame.Auth auth = (Frame.Auth) Wire.readFrames(ch).getFirst();
        assertArrayEquals(nonce, auth.proof());
    }
}
