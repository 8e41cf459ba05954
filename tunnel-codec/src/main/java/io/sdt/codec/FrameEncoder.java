package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes {@link Frame}s as length-prefixed byte frames. A payload frame becomes a small header
 * buffer followed by its own payload buffer (no copy), except that payloads of up to
 * {@value #COPY_THRESHOLD} bytes (datagrams: {@value #DATAGRAM_COPY_THRESHOLD}) are copied behind
 * the header to save a buffer. Stateless and
 * sharable.
 */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {

    public static final FrameEncoder INSTANCE = new FrameEncoder();

    /** Longest message text written in GOAWAY, OPEN_FAIL and BIND_FAIL; longer text is cut. */
    public static final int MAX_MESSAGE_BYTES = 1024;
    static final int COPY_THRESHOLD = 256;
    /**
     * Datagrams up to this size are copied behind their header too: one buffer per datagram costs
     * less than a second buffer and the promise bookkeeping of a two-buffer write.
     */
    static final int DATAGRAM_COPY_THRESHOLD = 2048;

    private FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, List<Object> out) {
        if (frame instanceof Frame.Data d) {
            encodePayload(ctx, FrameType.DATA, d.channel(), d.content(), out);
        } else if (frame instanceof Frame.Datagram d) {
            encodePayload(ctx, FrameType.DATAGRAM, d.channel(), d.content(), out);
        } else if (frame instanceof Frame.SoleDatagram d) {
            encodePayload(ctx, FrameType.SOLE_DATAGRAM, -1, d.content(), out);
        } else {
            ByteBuf body = ctx.alloc().buffer(64);
            try {
                writeBody(frame, body);
                ByteBuf framed = ctx.alloc().buffer(Varint.size(body.readableBytes()) + body.readableBytes());
                Varint.write(framed, body.readableBytes());
                framed.writeBytes(body);
                out.add(framed);
            } finally {
                body.release();
            }
        }
    }

    private static void encodePayload(ChannelHandlerContext ctx, FrameType type, int channel, ByteBuf payload,
                                      List<Object> out) {
        int n = payload.readableBytes();
        int length = 1 + (channel < 0 ? 0 : Varint.size(channel)) + n;
        int headerSize = Varint.size(length) + length - n;
        boolean copy = n <= (type == FrameType.DATA ? COPY_THRESHOLD : DATAGRAM_COPY_THRESHOLD);
        ByteBuf header = ctx.alloc().buffer(copy ? headerSize + n : headerSize);
        Varint.write(header, length);
        header.writeByte(type.code());
        if (channel >= 0) {
            Varint.write(header, channel);
        }
        if (copy) {
            header.writeBytes(payload, payload.readerIndex(), n);
            out.add(header);
        } else {
            out.add(header);
            out.add(payload.retain());
        }
    }

    /** Writes type, channel id and body of a non-payload frame. */
    static void writeBody(Frame frame, ByteBuf b) {
        b.writeByte(frame.type().code());
        switch (frame) {
            case Frame.Hello h -> {
                b.writeByte(h.version());
                b.writeBytes(h.nonce());
            }
            case Frame.Challenge c -> {
                b.writeBytes(c.nonce());
                b.writeBytes(c.proof());
            }
            case Frame.Auth a -> b.writeBytes(a.proof());
            case Frame.AuthOk ignored -> {
            }
            case Frame.GoAway g -> {
                b.writeByte(g.code().code());
                writeText(b, g.message());
            }
            case Frame.Ping p -> b.writeLong(p.payload());
            case Frame.Pong p -> b.writeLong(p.payload());
            case Frame.Bind bind -> {
                Varint.write(b, bind.tunnelId());
                b.writeByte((bind.udp() ? FrameDecoder.FLAG_UDP : 0) | (bind.push() ? FrameDecoder.FLAG_PUSH : 0)
                        | (bind.peer() != null ? FrameDecoder.FLAG_PEER : 0) | (bind.sole() ? FrameDecoder.FLAG_SOLE : 0)
                        | (bind.dynamic() ? FrameDecoder.FLAG_DYNAMIC : 0)
                        | (bind.optimistic() ? FrameDecoder.FLAG_OPTIMISTIC : 0));
                Varint.write(b, bind.idleMillis());
                Varint.write(b, bind.maxChannels());
                bind.bind().encode(b);
                if (bind.peer() != null) {
                    bind.peer().encode(b);
                }
            }
            case Frame.BindOk ok -> {
                Varint.write(b, ok.tunnelId());
                ok.bound().encode(b);
            }
            case Frame.Unbind unbind -> Varint.write(b, unbind.tunnelId());
            case Frame.BindFail fail -> {
                Varint.write(b, fail.tunnelId());
                b.writeByte(fail.code().code());
                writeText(b, fail.message());
            }
            case Frame.Open open -> {
                Varint.write(b, open.channel());
                Varint.write(b, open.tunnelId());
                Varint.write(b, open.window());
                b.writeByte((open.udp() ? FrameDecoder.FLAG_UDP : 0) | (open.push() ? FrameDecoder.FLAG_PUSH : 0)
                        | (open.sole() ? FrameDecoder.FLAG_SOLE : 0) | (open.origin() != null ? FrameDecoder.FLAG_ORIGIN : 0)
                        | (open.relp() ? FrameDecoder.FLAG_RELP : 0) | (open.vpn() ? FrameDecoder.FLAG_VPN : 0)
                        | (open.proxyProtocol() ? FrameDecoder.FLAG_PROXY_PROTOCOL : 0)
                        | (open.early() ? FrameDecoder.FLAG_EARLY : 0));
                open.target().encode(b);
                if (open.origin() != null) {
                    open.origin().encode(b);
                }
            }
            case Frame.OpenOk ok -> {
                Varint.write(b, ok.channel());
                Varint.write(b, ok.window());
            }
            case Frame.OpenFail fail -> {
                Varint.write(b, fail.channel());
                b.writeByte(fail.code().code());
                writeText(b, fail.message());
            }
            case Frame.Window w -> {
                Varint.write(b, w.channel());
                Varint.write(b, w.increment());
            }
            case Frame.Eof e -> Varint.write(b, e.channel());
            case Frame.Close c -> {
                Varint.write(b, c.channel());
                b.writeByte(c.code().code());
            }
            case Frame.PushSeq p -> {
                Varint.write(b, p.channel());
                b.writeBytes(p.spoolId());
                b.writeLong(p.seq());
            }
            case Frame.PushAck a -> {
                Varint.write(b, a.channel());
                b.writeLong(a.seq());
            }
            case Frame.VpnConfig v -> {
                Varint.write(b, v.channel());
                b.writeBytes(v.clientId());
                b.writeShort(v.mtu());
                b.writeByte(v.features());
                b.writeByte(v.addresses().size());
                for (IpPrefix p : v.addresses()) {
                    p.encode(b);
                }
                b.writeByte(v.routes().size());
                for (IpPrefix p : v.routes()) {
                    p.encode(b);
                }
            }
            case Frame.Data d -> throw new IllegalArgumentException("payload frame " + d);
            case Frame.Datagram d -> throw new IllegalArgumentException("payload frame " + d);
            case Frame.SoleDatagram d -> throw new IllegalArgumentException("payload frame " + d);
        }
    }

    private static void writeText(ByteBuf b, String text) {
        byte[] bytes = text == null ? new byte[0] : text.getBytes(StandardCharsets.UTF_8);
        b.writeBytes(bytes, 0, Math.min(bytes.length, MAX_MESSAGE_BYTES));
    }
}
