package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Splits the link's byte stream into {@link Frame}s. Payload frames hold a retained slice of the
 * received bytes (no copy); whoever consumes such a frame releases it.
 *
 * <p>On a protocol violation the decoder fires a {@link FrameException} down the pipeline, closes
 * the connection and discards every later byte: a link that sent one bad frame cannot be trusted
 * to be in sync. Frames decoded before the bad one are still delivered.
 *
 * <p>Not sharable; confined to its channel's event loop. Longer than a handler should be because it decodes
 * the body of every frame type in one switch, beside the length and flag checks those bodies share.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

    /** Default maximum of a frame's length (type, channel id and body). */
    public static final int DEFAULT_MAX_FRAME_LENGTH = 1 << 20;
    /**
     * Smallest allowed maximum: the longest control frame must fit. That is a VPN_CONFIG with a
     * four-byte channel id and the most IPv6 addresses and routes it may carry (4904 bytes); the
     * next longest, OPEN_FAIL or BIND_FAIL with a four-byte id and a full
     * {@link FrameEncoder#MAX_MESSAGE_BYTES} message, takes 1030.
     */
    static final int MIN_MAX_FRAME_LENGTH = 1 + Varint.MAX_BYTES + Frame.VPN_CLIENT_ID_LENGTH + 2
            + 1 + 1 + Frame.VPN_MAX_ADDRESSES * (1 + 16 + 1) + 1 + Frame.VPN_MAX_ROUTES * (1 + 16 + 1);

    private final int maxFrameLength;
    private boolean failed;

    public FrameDecoder() {
        this(DEFAULT_MAX_FRAME_LENGTH);
    }

    public FrameDecoder(int maxFrameLength) {
        if (maxFrameLength < MIN_MAX_FRAME_LENGTH || maxFrameLength > Varint.MAX_VALUE) {
            throw new IllegalArgumentException("maxFrameLength out of range: " + maxFrameLength);
        }
        this.maxFrameLength = maxFrameLength;
        // Decrypted TLS records arrive in 16 KiB pieces; a composite cumulation strings them together
        // instead of copying each into one buffer, so DATA payloads stay zero-copy slices.
        setCumulator(COMPOSITE_CUMULATOR);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            while (in.isReadable()) {
                long peeked = Varint.peek(in, "frame length");
                if (peeked < 0) {
                    return;
                }
                int length = (int) peeked;
                int prefix = (int) (peeked >>> 32);
                if (length > maxFrameLength) {
                    throw new FrameException(FrameException.Reason.TOO_LONG,
                            "frame of " + length + " bytes exceeds the maximum of " + maxFrameLength);
                }
                if (length == 0) {
                    throw new FrameException(FrameException.Reason.MALFORMED_FRAME, "empty frame");
                }
                if (in.readableBytes() < prefix + length) {
                    return;
                }
                in.skipBytes(prefix);
                int end = in.readerIndex() + length;
                ByteBuf frame = in.slice(in.readerIndex(), length);
                in.readerIndex(end);
                out.add(parse(frame, in, end - length));
            }
        } catch (FrameException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            ctx.channel().config().setAutoRead(false);
            ctx.close();
            throw e;
        }
    }

    /**
     * Parses one frame from {@code f}, a slice of exactly one frame. Payloads are taken as retained
     * slices of {@code cumulation} starting at the right absolute index.
     */
    private static Frame parse(ByteBuf f, ByteBuf cumulation, int frameStart) {
        int code = f.readUnsignedByte();
        FrameType type = FrameType.of(code);
        if (type == null) {
            throw new FrameException(FrameException.Reason.UNKNOWN_TYPE, String.format("type 0x%02x", code));
        }
        int channel = type.hasChannel() ? Varint.read(f, "channel id") : 0;
        Frame frame = switch (type) {
            case HELLO -> {
                int version = readByte(f, type);
                yield new Frame.Hello(version, readBytes(f, Frame.NONCE_LENGTH, type));
            }
            case CHALLENGE -> new Frame.Challenge(readBytes(f, Frame.NONCE_LENGTH, type),
                    readBytes(f, Frame.NONCE_LENGTH, type));
            case AUTH -> new Frame.Auth(readBytes(f, Frame.NONCE_LENGTH, type));
            case AUTH_OK -> new Frame.AuthOk();
            case GOAWAY -> new Frame.GoAway(ErrorCode.of(readByte(f, type)), readText(f));
            case PING -> new Frame.Ping(readLong(f, type));
            case PONG -> new Frame.Pong(readLong(f, type));
            case BIND -> {
                int tunnel = Varint.read(f, "tunnel id");
                int flags = readFlags(f, type, FLAG_UDP | FLAG_PUSH | FLAG_PEER | FLAG_SOLE | FLAG_DYNAMIC
                        | FLAG_OPTIMISTIC);
                boolean dynamic = (flags & FLAG_DYNAMIC) != 0;
                if (dynamic && (flags & (FLAG_UDP | FLAG_PUSH | FLAG_PEER)) != 0) {
                    throw new FrameException(FrameException.Reason.MALFORMED_FRAME,
                            "BIND: the dynamic flag excludes udp, push and peer (flags " + flags + ")");
                }
                if ((flags & FLAG_OPTIMISTIC) != 0 && !dynamic) {
                    throw new FrameException(FrameException.Reason.MALFORMED_FRAME,
                            "BIND: the optimistic flag needs the dynamic flag (flags " + flags + ")");
                }
                int idle = Varint.read(f, "idle time");
                int max = Varint.read(f, "channel limit");
                HostPort bind = HostPort.decode(f);
                HostPort peer = (flags & FLAG_PEER) != 0 ? HostPort.decode(f) : null;
                yield new Frame.Bind(tunnel, (flags & FLAG_UDP) != 0, (flags & FLAG_PUSH) != 0,
                        (flags & FLAG_SOLE) != 0, idle, max, bind, peer, dynamic, (flags & FLAG_OPTIMISTIC) != 0);
            }
            case BIND_OK -> new Frame.BindOk(Varint.read(f, "tunnel id"), HostPort.decode(f));
            case BIND_FAIL -> {
                int tunnel = Varint.read(f, "tunnel id");
                yield new Frame.BindFail(tunnel, ErrorCode.of(readByte(f, type)), readText(f));
            }
            case UNBIND -> new Frame.Unbind(Varint.read(f, "tunnel id"));
            case OPEN -> {
                int tunnel = Varint.read(f, "tunnel id");
                int window = Varint.read(f, "window");
                int flags = readFlags(f, type, FLAG_UDP | FLAG_PUSH | FLAG_SOLE | FLAG_ORIGIN | FLAG_RELP | FLAG_VPN
                        | FLAG_PROXY_PROTOCOL | FLAG_EARLY);
                if ((flags & FLAG_VPN) != 0 && flags != FLAG_VPN) {
                    throw new FrameException(FrameException.Reason.MALFORMED_FRAME, String.format(
                            "OPEN: the vpn flag excludes udp, push, sole, origin and relp (flags 0x%02x)", flags));
                }
                if ((flags & FLAG_RELP) != 0 && (flags & (FLAG_UDP | FLAG_PUSH)) != FLAG_PUSH) {
                    throw new FrameException(FrameException.Reason.MALFORMED_FRAME,
                            String.format("OPEN: the relp flag needs push without udp (flags 0x%02x)", flags));
                }
                if ((flags & FLAG_PROXY_PROTOCOL) != 0 && (flags & (FLAG_UDP | FLAG_PUSH | FLAG_ORIGIN)) != FLAG_ORIGIN) {
                    throw new FrameException(FrameException.Reason.MALFORMED_FRAME, String.format(
                            "OPEN: the proxy-protocol flag needs origin, without udp and push (flags 0x%02x)", flags));
                }
                HostPort target = HostPort.decode(f);
                if ((flags & FLAG_EARLY) != 0 && (flags & (FLAG_UDP | FLAG_PUSH)) != 0) {
                    throw new FrameException(FrameException.Reason.MALFORMED_FRAME,
                            String.format("OPEN: the early flag excludes udp and push (flags 0x%02x)", flags));
                }
                HostPort origin = (flags & FLAG_ORIGIN) != 0 ? HostPort.decode(f) : null;
                yield new Frame.Open(channel, tunnel, window, (flags & FLAG_UDP) != 0, (flags & FLAG_PUSH) != 0,
                        (flags & FLAG_SOLE) != 0, target, origin, (flags & FLAG_RELP) != 0, (flags & FLAG_VPN) != 0,
                        (flags & FLAG_PROXY_PROTOCOL) != 0, (flags & FLAG_EARLY) != 0);
            }
            case OPEN_OK -> new Frame.OpenOk(channel, Varint.read(f, "window"));
            case OPEN_FAIL -> new Frame.OpenFail(channel, ErrorCode.of(readByte(f, type)), readText(f));
            case WINDOW -> new Frame.Window(channel, Varint.read(f, "window increment"));
            case EOF -> new Frame.Eof(channel);
            case CLOSE -> new Frame.Close(channel, ErrorCode.of(readByte(f, type)));
            case PUSH_SEQ -> new Frame.PushSeq(channel, readBytes(f, Frame.SPOOL_ID_LENGTH, type), positive(readLong(f, type), type));
            case PUSH_ACK -> new Frame.PushAck(channel, positive(readLong(f, type), type));
            case VPN_CONFIG -> {
                byte[] clientId = readBytes(f, Frame.VPN_CLIENT_ID_LENGTH, type);
                int mtu = readShort(f, type);
                int features = readByte(f, type);
                List<IpPrefix> addresses = readPrefixes(f, type, Frame.VPN_MAX_ADDRESSES, "addresses");
                yield new Frame.VpnConfig(channel, clientId, mtu, features, addresses,
                        readPrefixes(f, type, Frame.VPN_MAX_ROUTES, "routes"));
            }
            case DATA, DATAGRAM, SOLE_DATAGRAM -> {
                ByteBuf payload = cumulation.retainedSlice(frameStart + f.readerIndex(), f.readableBytes());
                f.skipBytes(f.readableBytes());
                yield switch (type) {
                    case DATA -> new Frame.Data(channel, payload);
                    case DATAGRAM -> new Frame.Datagram(channel, payload);
                    default -> new Frame.SoleDatagram(payload);
                };
            }
        };
        if (f.isReadable()) {
            throw new FrameException(FrameException.Reason.MALFORMED_FRAME,
                    type + " frame has " + f.readableBytes() + " trailing bytes");
        }
        return frame;
    }

    private static long positive(long seq, FrameType type) {
        if (seq < 1) {
            throw new FrameException(FrameException.Reason.MALFORMED_FRAME, type + ": sequence " + seq + " is not positive");
        }
        return seq;
    }

    private static int readByte(ByteBuf f, FrameType type) {
        if (!f.isReadable()) {
            throw truncated(type);
        }
        return f.readUnsignedByte();
    }

    /**
     * Flag bits of OPEN and BIND: a UDP tunnel, a one-way (push) tunnel, a peer address follows
     * (BIND), the link's sole channel or tunnel (datagrams as SOLE_DATAGRAM).
     */
    static final int FLAG_UDP = 1;
    static final int FLAG_PUSH = 2;
    static final int FLAG_PEER = 4;
    static final int FLAG_SOLE = 8;
    /** BIND only: a reverse dynamic (SOCKS5 / HTTP CONNECT) listener. */
    static final int FLAG_DYNAMIC = 16;
    /** OPEN: the same bit as BIND's peer; DATA and EOF may follow before the answer (early data). */
    static final int FLAG_EARLY = 4;
    /** OPEN: the same bit as BIND's dynamic; the egress sends a PROXY v2 header naming the origin. */
    static final int FLAG_PROXY_PROTOCOL = 16;
    /** BIND only, with dynamic: the listener answers CONNECTs at once and opens its channels early. */
    static final int FLAG_OPTIMISTIC = 32;
    /** OPEN only: the customer's address (the origin) follows the target. */
    static final int FLAG_ORIGIN = 32;
    /** OPEN only, with push: the egress speaks RELP to the target (rsyslog's reliable event logging protocol). */
    static final int FLAG_RELP = 64;
    /** OPEN only, alone: the channel carries the IP packets of the L3 VPN mode. */
    static final int FLAG_VPN = 128;

    private static int readFlags(ByteBuf f, FrameType type, int allowed) {
        int flags = readByte(f, type);
        if ((flags & ~allowed) != 0) {
            throw new FrameException(FrameException.Reason.MALFORMED_FRAME,
                    String.format("%s frame has unknown flags 0x%02x", type, flags));
        }
        return flags;
    }

    private static int readShort(ByteBuf f, FrameType type) {
        if (f.readableBytes() < 2) {
            throw truncated(type);
        }
        return f.readUnsignedShort();
    }

    /** A count byte and that many {@link IpPrefix}es; a count above {@code max} is a malformed frame. */
    private static List<IpPrefix> readPrefixes(ByteBuf f, FrameType type, int max, String what) {
        int count = readByte(f, type);
        if (count > max) {
            throw new FrameException(FrameException.Reason.MALFORMED_FRAME,
                    type + " has " + count + " " + what + ", at most " + max);
        }
        if (count == 0) {
            return List.of();
        }
        IpPrefix[] prefixes = new IpPrefix[count];
        for (int i = 0; i < count; i++) {
            prefixes[i] = IpPrefix.decode(f);
        }
        return List.of(prefixes);
    }

    private static long readLong(ByteBuf f, FrameType type) {
        if (f.readableBytes() < 8) {
            throw truncated(type);
        }
        return f.readLong();
    }

    private static byte[] readBytes(ByteBuf f, int n, FrameType type) {
        if (f.readableBytes() < n) {
            throw truncated(type);
        }
        byte[] b = new byte[n];
        f.readBytes(b);
        return b;
    }

    private static String readText(ByteBuf f) {
        return f.readCharSequence(f.readableBytes(), StandardCharsets.UTF_8).toString();
    }

    private static FrameException truncated(FrameType type) {
        return new FrameException(FrameException.Reason.MALFORMED_FRAME, type + " frame is truncated");
    }
}
