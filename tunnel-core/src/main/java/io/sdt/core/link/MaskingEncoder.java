package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker13;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A client's WebSocket frame encoder: Netty's {@link WebSocket08FrameEncoder}, except that a binary frame's
 * masking (RFC 6455 section 5.3: a fresh random 32-bit key per frame, XORed over the payload) runs eight bytes at
 * a time on the frame's memory. Netty's loop checks the buffer's reference count and bounds for every eight bytes;
 * on the client of a bulk WebSocket link that loop was most of the client's Java time (the link's TLS records are
 * 16 KiB frames) and held the link at two thirds of a raw link's throughput. Control, text and short frames go to
 * Netty's own code, as does everything the server sends (servers do not mask).
 */
final class MaskingEncoder extends WebSocket08FrameEncoder {

    MaskingEncoder() {
        super(true);
    }

    /** The client handshaker of {@link WebSocketLink#client}, which installs this encoder after the upgrade. */
    static WebSocketClientHandshaker13 handshaker(URI uri, String subprotocol, HttpHeaders headers, int maxFramePayload,
                                                  long forceCloseMillis) {
        return new WebSocketClientHandshaker13(uri, WebSocketVersion.V13, subprotocol, false, headers, maxFramePayload,
                true, false, forceCloseMillis) {
            @Override
            protected WebSocketFrameEncoder newWebSocketEncoder() {
                return new MaskingEncoder();
            }
        };
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, WebSocketFrame msg, List<Object> out) throws Exception {
        ByteBuf data = msg.content();
        int length = data.readableBytes();
        if (!(msg instanceof BinaryWebSocketFrame) || length <= 125 || msg.rsv() != 0) {
            super.encode(ctx, msg, out);
            return;
        }
        boolean medium = length <= 0xFFFF;
        ByteBuf frame = ctx.alloc().buffer((medium ? 4 : 10) + 4 + length);
        try {
            frame.writeByte(msg.isFinalFragment() ? 0x82 : 0x02); // FIN, opcode binary
            if (medium) {
                frame.writeByte(0x80 | 126).writeShort(length); // MASK bit, 16-bit length
            } else {
                frame.writeByte(0x80 | 127).writeLong(length); // MASK bit, 64-bit length
            }
            int key = ThreadLocalRandom.current().nextInt();
            frame.writeInt(key);
            int from = frame.writerIndex();
            frame.writeBytes(data, data.readerIndex(), length);
            mask(frame, from, length, key);
            out.add(frame);
            frame = null;
        } finally {
            if (frame != null) {
                frame.release();
            }
        }
    }

    /** XORs {@code length} bytes of {@code buf} from {@code from} with the repeated big-endian {@code key}. */
    static void mask(ByteBuf buf, int from, int length, int key) {
        long key8 = (key & 0xFFFFFFFFL) << 32 | (key & 0xFFFFFFFFL);
        if (buf.nioBufferCount() != 1) {
            int i = 0;
            for (; i + 8 <= length; i += 8) {
                buf.setLong(from + i, buf.getLong(from + i) ^ key8);
            }
            for (; i < length; i++) {
                buf.setByte(from + i, buf.getByte(from + i) ^ key >>> 24 - 8 * (i & 3));
            }
            return;
        }
        ByteBuffer b = buf.nioBuffer(from, length).order(ByteOrder.BIG_ENDIAN); // the same memory
        int at = b.position();
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            b.putLong(at + i, b.getLong(at + i) ^ key8);
        }
        for (; i < length; i++) {
            b.put(at + i, (byte) (b.get(at + i) ^ key >>> 24 - 8 * (i & 3)));
        }
    }
}
