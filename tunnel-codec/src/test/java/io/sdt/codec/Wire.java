package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Test helpers to turn frames into wire bytes and back. Everything read out of a channel here is
 * released here; callers get plain values ({@link #view}) they can compare with {@code equals}.
 */
final class Wire {

    private Wire() {
    }

    /** Bytes from a hex string; spaces are ignored. */
    static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex.replace(" ", ""));
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    /** A frame on the wire: the varint length of {@code body} followed by it. */
    static byte[] framed(String bodyHex) {
        return framed(hex(bodyHex));
    }

    static byte[] framed(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int v = body.length;
        while (v >= 0x80) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
        out.writeBytes(body);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Encodes {@code frames} with {@link FrameEncoder} and returns the bytes; releases everything. */
    static byte[] encode(LeakGuard guard, Frame... frames) {
        EmbeddedChannel ch = guard.channel(FrameEncoder.INSTANCE);
        ch.writeOutbound((Object[]) frames);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            out.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
        }
        ch.finishAndReleaseAll();
        return out.toByteArray();
    }

    /** Every frame waiting in {@code ch}'s inbound queue, as {@link #view}s; the frames are released. */
    static List<Object> readFrames(EmbeddedChannel ch) {
        List<Object> views = new ArrayList<>();
        for (Object msg; (msg = ch.readInbound()) != null; ) {
            try {
                views.add(view((Frame) msg));
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
        return views;
    }

    /** Views of frames the test still owns; the frames are not released. */
    static List<Object> views(List<Frame> frames) {
        List<Object> views = new ArrayList<>();
        for (Frame f : frames) {
            views.add(view(f));
        }
        return views;
    }

    /**
     * A comparable value for a frame: the frame itself for value frames (records), a {@link Payload}
     * for {@link Frame.Data} and {@link Frame.Datagram}, whose {@code equals} ignores the channel.
     */
    static Object view(Frame f) {
        return switch (f) {
            case Frame.Data d -> new Payload(FrameType.DATA, d.channel(), hexOf(d.content()));
            case Frame.Datagram d -> new Payload(FrameType.DATAGRAM, d.channel(), hexOf(d.content()));
            case Frame.SoleDatagram d -> new Payload(FrameType.SOLE_DATAGRAM, -1, hexOf(d.content()));
            default -> f;
        };
    }

    /** One bulk read: per-byte access is slow under paranoid leak detection (a trace per call). */
    private static String hexOf(ByteBuf b) {
        return hex(ByteBufUtil.getBytes(b));
    }

    static void releaseAll(List<? extends Frame> frames) {
        for (Frame f : frames) {
            ReferenceCountUtil.release(f);
        }
    }

    /** The view of a DATA frame whose payload is {@link LeakGuard#pattern}{@code (length)}. */
    static Payload data(int channel, int length) {
        return new Payload(FrameType.DATA, channel, hex(LeakGuard.patternBytes(length)));
    }

    record Payload(FrameType type, int channel, String hex) {
        @Override
        public String toString() {
            return type + "[channel=" + channel + ", bytes=" + hex.length() / 2 + "]";
        }
    }
}
