package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client's fast masking encoder writes frames that Netty's server decoder reads back byte for byte. */
class MaskingEncoderTest {

    private static byte[] payload(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Encodes {@code frame} with the client encoder; returns the wire bytes. */
    private static ByteBuf encode(WebSocketFrame frame) {
        EmbeddedChannel client = new EmbeddedChannel(new MaskingEncoder());
        assertTrue(client.writeOutbound(frame));
        ByteBuf wire = Unpooled.buffer();
        for (ByteBuf b; (b = client.readOutbound()) != null; ) {
            wire.writeBytes(b);
            b.release();
        }
        client.finishAndReleaseAll();
        return wire;
    }

    /** Decodes {@code wire} as a server does (masked frames expected). */
    private static WebSocketFrame decode(ByteBuf wire) {
        EmbeddedChannel server = new EmbeddedChannel(new WebSocket08FrameDecoder(true, false, 1 << 20));
        server.writeInbound(wire);
        WebSocketFrame f = server.readInbound();
        assertNull(server.readInbound(), "one frame");
        server.finishAndReleaseAll();
        return f;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 125, 126, 127, 1000, 4093, 16389, 65535, 65536, 100_001})
    void aBinaryFrameOfAnyLengthDecodesToItsPayload(int length) {
        byte[] p = payload(length, length);
        ByteBuf wire = encode(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(p)));
        assertEquals(0x82, wire.getUnsignedByte(0), "FIN and binary");
        assertEquals(0x80, wire.getUnsignedByte(1) & 0x80, "a client's frame is masked");
        if (length >= 8) {
            int start = wire.readableBytes() - length;
            assertNotEquals(ByteBufUtil.hexDump(p, 0, 8), ByteBufUtil.hexDump(wire, start, 8),
                    "the payload on the wire is not the plain payload");
        }
        WebSocketFrame f = decode(wire);
        assertInstanceOf(BinaryWebSocketFrame.class, f);
        assertArrayEquals(p, ByteBufUtil.getBytes(f.content()));
        f.release();
    }

    @Test
    void everyFrameHasItsOwnKey() {
        ByteBuf a = encode(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload(300, 1))));
        ByteBuf b = encode(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload(300, 1))));
        assertNotEquals(a.getInt(4), b.getInt(4), "the 32-bit keys of two frames (16-bit length form)");
        a.release();
        b.release();
    }

    @Test
    void controlFramesGoThroughNettysEncoder() {
        WebSocketFrame f = decode(encode(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[]{1, 2, 3}))));
        assertInstanceOf(PingWebSocketFrame.class, f);
        assertArrayEquals(new byte[]{1, 2, 3}, ByteBufUtil.getBytes(f.content()));
        f.release();
    }

    @Test
    void aBufferInPiecesIsMaskedTheSameWay() {
        byte[] p = payload(1003, 7);
        int key = 0x1234abcd;
        ByteBuf flat = Unpooled.directBuffer(1003).writeBytes(p);
        CompositeByteBuf writable = Unpooled.compositeBuffer().addComponents(true,
                Unpooled.buffer(501).writeBytes(p, 0, 501), Unpooled.buffer(502).writeBytes(p, 501, 502));
        assertEquals(2, writable.nioBufferCount(), "the path for a buffer in pieces");
        MaskingEncoder.mask(flat, 0, 1003, key);
        MaskingEncoder.mask(writable, 0, 1003, key);
        assertArrayEquals(ByteBufUtil.getBytes(flat), ByteBufUtil.getBytes(writable));
        for (int i = 0; i < p.length; i++) {
            assertEquals((byte) (p[i] ^ key >>> 24 - 8 * (i & 3)), flat.getByte(i), "byte " + i);
        }
        flat.release();
        writable.release();
    }
}
