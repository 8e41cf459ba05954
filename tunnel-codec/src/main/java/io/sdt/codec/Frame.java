package io.sdt.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * One frame of the link protocol. Payload frames ({@link Data}, {@link Datagram}) hold a reference
 * counted buffer: the last one to touch a frame releases it. All other frames are plain values.
 * The wire layout of each is in {@code docs/PROTOCOL.md}.
 */
public sealed interface Frame
        permits Frame.Hello, Frame.Challenge, Frame.Auth, Frame.AuthOk, Frame.GoAway, Frame.Ping, Frame.Pong,
        Frame.Bind, Frame.BindOk, Frame.BindFail, Frame.Unbind, Frame.Open, Frame.OpenOk, Frame.OpenFail, Frame.Data,
        Frame.Window, Frame.Eof, Frame.Close, Frame.Datagram, Frame.SoleDatagram, Frame.PushSeq, Frame.PushAck,
        Frame.VpnConfig {

    /** Length of a durable push spool's identity in PUSH_SEQ. */
    int SPOOL_ID_LENGTH = 16;
    /** Length of a VPN client's identity in VPN_CONFIG. */
    int VPN_CLIENT_ID_LENGTH = 16;
    /** Most addresses one VPN_CONFIG carries: a handful per family is plenty, and it bounds the frame. */
    int VPN_MAX_ADDRESSES = 16;
    /**
     * VPN_CONFIG feature bit 0, offload: DATAGRAMs of the channel may carry a packet with an offload
     * header (a TCP super-segment to be cut by the receiving TUN, or a packet whose checksum is still to
     * be completed) besides plain IP packets; PROTOCOL.md section 16.
     */
    int VPN_OFFLOAD = 0x01;
    /** Most routes one VPN_CONFIG carries: the count is one byte. */
    int VPN_MAX_ROUTES = 255;

    /** Length of authentication nonces and proofs (HMAC-SHA256). */
    int NONCE_LENGTH = 32;
    /** Protocol version carried in HELLO and named by ALPN. */
    int VERSION = 1;
    /**
     * Most DATA payload bytes the opener of an early OPEN may send before OPEN_OK: the smallest receive
     * window a node may advertise, so it is within every acceptor's window (PROTOCOL.md section 8).
     */
    int EARLY_DATA_MAX = 64 * 1024;

    FrameType type();

    /** Client to server, first frame after TLS: protocol version and the client's nonce. */
    record Hello(int version, byte[] nonce) implements Frame {
        public Hello {
            checkLength(nonce, "nonce");
        }

        public FrameType type() {
            return FrameType.HELLO;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Hello h && h.version == version && Arrays.equals(h.nonce, nonce);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(nonce) + version;
        }

        @Override
        public String toString() {
            return "Hello[version=" + version + "]";
        }
    }

    /** Server to client: the server's nonce and its proof of the token. */
    record Challenge(byte[] nonce, byte[] proof) implements Frame {
        public Challenge {
            checkLength(nonce, "nonce");
            checkLength(proof, "proof");
        }

        public FrameType type() {
            return FrameType.CHALLENGE;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Challenge c && Arrays.equals(c.nonce, nonce) && Arrays.equals(c.proof, proof);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(nonce) * 31 + Arrays.hashCode(proof);
        }

        @Override
        public String toString() {
            return "Challenge[nonce=" + HexFormat.of().formatHex(nonce, 0, 4) + "..]";
        }
    }

    /** Client to server: the client's proof of the token. */
    record Auth(byte[] proof) implements Frame {
        public Auth {
            checkLength(proof, "proof");
        }

        public FrameType type() {
            return FrameType.AUTH;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Auth a && Arrays.equals(a.proof, proof);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(proof);
        }

        @Override
        public String toString() {
            return "Auth[proof=***]";
        }
    }

    /** Server to client: authentication succeeded; the link is open for channels. */
    record AuthOk() implements Frame {
        public FrameType type() {
            return FrameType.AUTH_OK;
        }
    }

    /** Either side: the sender is closing the link, with a reason. */
    record GoAway(ErrorCode code, String message) implements Frame {
        public FrameType type() {
            return FrameType.GOAWAY;
        }
    }

    /** Heartbeat request; the peer answers with a {@link Pong} carrying the same value. */
    record Ping(long payload) implements Frame {
        public FrameType type() {
            return FrameType.PING;
        }
    }

    record Pong(long payload) implements Frame {
        public FrameType type() {
            return FrameType.PONG;
        }
    }

    /**
     * Asks the peer to listen at {@code bind} for a remote tunnel ({@code -R}) and to open channels
     * for it with this tunnel id. {@code udp} selects a datagram listener; a UDP listener keeps
     * {@code maxChannels} source tuples at most (0: the peer's default) and expires a tuple after
     * {@code idleMillis} without traffic (0: the peer's default). TCP listeners use
     * {@code maxChannels} as their connection cap and ignore {@code idleMillis}. {@code push}
     * makes the tunnel one-way; a non-null {@code peer} (direct mode) is the only source the
     * listener accepts (port 0: any port of that address). {@code sole}: the client asserts this is
     * the link's only tunnel, so its single channel may use {@link SoleDatagram}s. {@code dynamic}
     * (reverse dynamic forwarding, {@code -R PORT}): the listener speaks SOCKS5 and HTTP CONNECT and
     * each channel it opens carries the target its customer asked for; it is TCP, never push or
     * direct. {@code optimistic} (dynamic only, on a link that agreed on early data): the listener answers
     * a CONNECT with success at once and its channels open early.
     */
    record Bind(int tunnelId, boolean udp, boolean push, boolean sole, int idleMillis, int maxChannels, HostPort bind,
                HostPort peer, boolean dynamic, boolean optimistic) implements Frame {
        public Bind {
            checkVarint(tunnelId, "tunnel id");
            checkVarint(idleMillis, "idle time");
            checkVarint(maxChannels, "channel limit");
            if (dynamic && (udp || push || peer != null)) {
                throw new IllegalArgumentException("a dynamic BIND is TCP, without push or peer");
            }
            if (optimistic && !dynamic) {
                throw new IllegalArgumentException("only a dynamic BIND is optimistic");
            }
        }

        public Bind(int tunnelId, boolean udp, boolean push, boolean sole, int idleMillis, int maxChannels,
                    HostPort bind, HostPort peer, boolean dynamic) {
            this(tunnelId, udp, push, sole, idleMillis, maxChannels, bind, peer, dynamic, false);
        }

        public Bind(int tunnelId, boolean udp, boolean push, boolean sole, int idleMillis, int maxChannels,
                    HostPort bind, HostPort peer) {
            this(tunnelId, udp, push, sole, idleMillis, maxChannels, bind, peer, false);
        }

        public Bind(int tunnelId, boolean udp, boolean push, int idleMillis, int maxChannels, HostPort bind,
                    HostPort peer) {
            this(tunnelId, udp, push, false, idleMillis, maxChannels, bind, peer);
        }

        public Bind(int tunnelId, boolean udp, int idleMillis, int maxChannels, HostPort bind) {
            this(tunnelId, udp, false, false, idleMillis, maxChannels, bind, null);
        }

        public Bind(int tunnelId, boolean udp, HostPort bind) {
            this(tunnelId, udp, false, false, 0, 0, bind, null);
        }

        public FrameType type() {
            return FrameType.BIND;
        }
    }

    /** The listener of a {@link Bind} is up at {@code bound}. */
    record BindOk(int tunnelId, HostPort bound) implements Frame {
        public BindOk {
            checkVarint(tunnelId, "tunnel id");
        }

        public FrameType type() {
            return FrameType.BIND_OK;
        }
    }

    record BindFail(int tunnelId, ErrorCode code, String message) implements Frame {
        public BindFail {
            checkVarint(tunnelId, "tunnel id");
        }

        public FrameType type() {
            return FrameType.BIND_FAIL;
        }
    }

    /**
     * The sender no longer wants the listener of tunnel {@code tunnelId} it asked for with
     * {@link Bind}: the receiver closes that listener. Channels already open through it run on until
     * they close (like OpenSSH's {@code cancel-tcpip-forward}). Unknown ids are ignored.
     */
    record Unbind(int tunnelId) implements Frame {
        public Unbind {
            checkVarint(tunnelId, "tunnel id");
        }

        public FrameType type() {
            return FrameType.UNBIND;
        }
    }

    /**
     * Opens channel {@code channel} of tunnel {@code tunnelId} to {@code target}; {@code window} is
     * how many DATA payload bytes the opener accepts before it returns credit. {@code push}: a
     * one-way channel, the acceptor sends nothing back on it. {@code sole}: this UDP channel is the
     * only one the link will carry, so both sides send its datagrams as {@link SoleDatagram}s.
     * {@code origin}: the address of the customer whose connection or datagram caused the open, for
     * the far node's audit trail, or {@code null}. {@code vpn}: the channel carries the IP packets of
     * the L3 VPN mode, one per {@link Datagram}, after a {@link VpnConfig} each way; it has no target
     * ({@link #VPN_TARGET}), no window and none of the other flags (see {@link #vpn(int, int)}).
     * {@code proxyProtocol}: the acceptor puts a PROXY protocol v2 header naming {@code origin} before the
     * stream it connects to the target (a TCP channel, not push, with an origin). {@code early}: the opener
     * may send up to {@link #EARLY_DATA_MAX} bytes of DATA, and EOF, before the answer, which the acceptor
     * holds until it has connected (a TCP channel, not push; only on a link whose ALPN is {@code sdt/1.1}).
     */
    record Open(int channel, int tunnelId, int window, boolean udp, boolean push, boolean sole, HostPort target,
                HostPort origin, boolean relp, boolean vpn, boolean proxyProtocol, boolean early) implements Frame {

        /** The target of a vpn OPEN: its packets name their own destinations. */
        public static final HostPort VPN_TARGET = new HostPort("0.0.0.0", 0);

        public Open {
            checkVarint(channel, "channel id");
            checkVarint(tunnelId, "tunnel id");
            checkVarint(window, "window");
            if (vpn && (udp || push || sole || origin != null || relp)) {
                throw new IllegalArgumentException("a vpn channel is not udp, push, sole or relp and has no origin");
            }
            if (relp && (udp || !push)) {
                throw new IllegalArgumentException("relp applies to TCP push channels only");
            }
            if (proxyProtocol && (udp || push || vpn || origin == null)) {
                throw new IllegalArgumentException("proxy-protocol applies to TCP channels with an origin, not push");
            }
            if (early && (udp || push || vpn)) {
                throw new IllegalArgumentException("early data applies to TCP stream channels only, not push or vpn");
            }
        }

        public Open(int channel, int tunnelId, int window, boolean udp, boolean push, boolean sole, HostPort target,
                    HostPort origin, boolean relp, boolean vpn, boolean proxyProtocol) {
            this(channel, tunnelId, window, udp, push, sole, target, origin, relp, vpn, proxyProtocol, false);
        }

        public Open(int channel, int tunnelId, int window, boolean udp, boolean push, boolean sole, HostPort target,
                    HostPort origin, boolean relp, boolean vpn) {
            this(channel, tunnelId, window, udp, push, sole, target, origin, relp, vpn, false);
        }

        public Open(int channel, int tunnelId, int window, boolean udp, boolean push, boolean sole, HostPort target,
                    HostPort origin, boolean relp) {
            this(channel, tunnelId, window, udp, push, sole, target, origin, relp, false);
        }

        public Open(int channel, int tunnelId, int window, boolean udp, boolean push, boolean sole, HostPort target,
                    HostPort origin) {
            this(channel, tunnelId, window, udp, push, sole, target, origin, false);
        }

        public Open(int channel, int tunnelId, int window, boolean udp, boolean push, boolean sole, HostPort target) {
            this(channel, tunnelId, window, udp, push, sole, target, null);
        }

        public Open(int channel, int tunnelId, int window, boolean udp, boolean push, HostPort target) {
            this(channel, tunnelId, window, udp, push, false, target, null);
        }

        public Open(int channel, int tunnelId, int window, boolean udp, HostPort target) {
            this(channel, tunnelId, window, udp, false, false, target, null);
        }

        /**
         * The OPEN of a VPN channel: target {@link #VPN_TARGET} and window 0, because its packets
         * name their own destinations and are never flow controlled.
         */
        public static Open vpn(int channel, int tunnelId) {
            return new Open(channel, tunnelId, 0, false, false, false, VPN_TARGET, null, false, true);
        }

        public FrameType type() {
            return FrameType.OPEN;
        }
    }

    /** The channel is open; {@code window} is the acceptor's receive window. */
    record OpenOk(int channel, int window) implements Frame {
        public OpenOk {
            checkVarint(channel, "channel id");
            checkVarint(window, "window");
        }

        public FrameType type() {
            return FrameType.OPEN_OK;
        }
    }

    record OpenFail(int channel, ErrorCode code, String message) implements Frame {
        public OpenFail {
            checkVarint(channel, "channel id");
        }

        public FrameType type() {
            return FrameType.OPEN_FAIL;
        }
    }

    /** Returns {@code increment} bytes of send credit to the peer for this channel. */
    record Window(int channel, int increment) implements Frame {
        public Window {
            checkVarint(channel, "channel id");
            checkVarint(increment, "window increment");
        }

        public FrameType type() {
            return FrameType.WINDOW;
        }
    }

    /** The sender will send no more DATA on this channel (TCP half-close). */
    record Eof(int channel) implements Frame {
        public Eof {
            checkVarint(channel, "channel id");
        }

        public FrameType type() {
            return FrameType.EOF;
        }
    }

    /** The channel is gone on the sender's side; the receiver closes its socket and forgets it. */
    record Close(int channel, ErrorCode code) implements Frame {
        public Close {
            checkVarint(channel, "channel id");
        }

        public FrameType type() {
            return FrameType.CLOSE;
        }
    }

    /**
     * Ingress to egress on a durable push channel: the next DATA on this channel is record {@code seq} of
     * the spool {@code spoolId}; each DATA after it is the next sequence. Sent after OPEN and again
     * wherever the spool's numbering jumps.
     */
    record PushSeq(int channel, byte[] spoolId, long seq) implements Frame {
        public PushSeq {
            checkVarint(channel, "channel id");
            if (spoolId == null || spoolId.length != SPOOL_ID_LENGTH) {
                throw new IllegalArgumentException("spool id must be " + SPOOL_ID_LENGTH + " bytes");
            }
            if (seq < 1) {
                throw new IllegalArgumentException("sequence must be positive: " + seq);
            }
        }

        public FrameType type() {
            return FrameType.PUSH_SEQ;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PushSeq p && p.channel == channel && p.seq == seq && Arrays.equals(p.spoolId, spoolId);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(spoolId) * 31 + Long.hashCode(seq) + channel;
        }

        @Override
        public String toString() {
            return "PushSeq[channel=" + channel + ", spool=" + HexFormat.of().formatHex(spoolId) + ", seq=" + seq + "]";
        }
    }

    /** Egress to ingress on a durable push channel: every record up to {@code seq} reached the target. */
    record PushAck(int channel, long seq) implements Frame {
        public PushAck {
            checkVarint(channel, "channel id");
            if (seq < 1) {
                throw new IllegalArgumentException("sequence must be positive: " + seq);
            }
        }

        public FrameType type() {
            return FrameType.PUSH_ACK;
        }
    }

    /**
     * The configuration of a VPN channel, sent once each way right after its OPEN and OPEN_OK. From
     * the client: its {@code clientId} (random, stable for the client process, so that a reconnecting
     * client gets its old addresses back), {@code mtu} 0, the {@code addresses} it asks for (none: the
     * server chooses) and no routes. From the server: the id echoed, the MTU the client's TUN must
     * use, the addresses granted (with the pool's prefix length, e.g. {@code 10.8.0.2/24}) and the
     * {@code routes} the client may send to through the server. {@code features} are bits: from the
     * client what it can take, from the server what both sides use ({@link #VPN_OFFLOAD}); bits a node
     * does not know are ignored, so a later feature is an offer an older peer declines by not echoing it.
     * The lists are immutable copies.
     */
    record VpnConfig(int channel, byte[] clientId, int mtu, int features, List<IpPrefix> addresses,
            List<IpPrefix> routes) implements Frame {

        /** A VPN_CONFIG without features. */
        public VpnConfig(int channel, byte[] clientId, int mtu, List<IpPrefix> addresses, List<IpPrefix> routes) {
            this(channel, clientId, mtu, 0, addresses, routes);
        }

        public VpnConfig {
            checkVarint(channel, "channel id");
            if (clientId == null || clientId.length != VPN_CLIENT_ID_LENGTH) {
                throw new IllegalArgumentException("client id must be " + VPN_CLIENT_ID_LENGTH + " bytes");
            }
            if (mtu < 0 || mtu > 65535) {
                throw new IllegalArgumentException("mtu out of range: " + mtu);
            }
            if (features < 0 || features > 0xFF) {
                throw new IllegalArgumentException("features out of range: " + features);
            }
            addresses = List.copyOf(addresses);
            routes = List.copyOf(routes);
            if (addresses.size() > VPN_MAX_ADDRESSES) {
                throw new IllegalArgumentException("at most " + VPN_MAX_ADDRESSES + " addresses, not " + addresses.size());
            }
            if (routes.size() > VPN_MAX_ROUTES) {
                throw new IllegalArgumentException("at most " + VPN_MAX_ROUTES + " routes, not " + routes.size());
            }
            clientId = clientId.clone();
        }

        /** A copy of the client's id. */
        @Override
        public byte[] clientId() {
            return clientId.clone();
        }

        public FrameType type() {
            return FrameType.VPN_CONFIG;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof VpnConfig v && v.channel == channel && v.mtu == mtu && v.features == features
                    && Arrays.equals(v.clientId, clientId)
                    && v.addresses.equals(addresses) && v.routes.equals(routes);
        }

        @Override
        public int hashCode() {
            return ((Arrays.hashCode(clientId) * 31 + addresses.hashCode()) * 31 + routes.hashCode()) * 31 + mtu + channel + (features << 16);
        }

        /** The id shortened like a nonce: enough to tell clients apart in a log, not to claim their addresses. */
        @Override
        public String toString() {
            return "VpnConfig[channel=" + channel + ", client=" + HexFormat.of().formatHex(clientId, 0, 4) + ".., mtu="
                    + mtu + ", features=" + features + ", addresses=" + addresses + ", routes=" + routes + "]";
        }
    }

    /** Stream bytes of one channel. */
    final class Data extends DefaultByteBufHolder implements Frame {
        private final int channel;

        public Data(int channel, ByteBuf payload) {
            super(payload);
            this.channel = checkVarint(channel, "channel id");
        }

        public int channel() {
            return channel;
        }

        public FrameType type() {
            return FrameType.DATA;
        }

        @Override
        public Data replace(ByteBuf content) {
            return new Data(channel, content);
        }

        @Override
        public String toString() {
            return "Data[channel=" + channel + ", bytes=" + content().readableBytes() + "]";
        }
    }

    /** One datagram of one channel; boundaries are preserved. */
    final class Datagram extends DefaultByteBufHolder implements Frame {
        private final int channel;

        public Datagram(int channel, ByteBuf payload) {
            super(payload);
            this.channel = checkVarint(channel, "channel id");
        }

        public int channel() {
            return channel;
        }

        public FrameType type() {
            return FrameType.DATAGRAM;
        }

        @Override
        public Datagram replace(ByteBuf content) {
            return new Datagram(channel, content);
        }

        @Override
        public String toString() {
            return "Datagram[channel=" + channel + ", bytes=" + content().readableBytes() + "]";
        }
    }

    /**
     * A datagram of the link's sole channel, without a channel id: used only for a channel whose
     * OPEN carried the "sole" flag (the link carries one direct UDP tunnel and nothing else), so a
     * datagram costs no channel-id bytes on the wire.
     */
    final class SoleDatagram extends DefaultByteBufHolder implements Frame {
        public SoleDatagram(ByteBuf payload) {
            super(payload);
        }

        public FrameType type() {
            return FrameType.SOLE_DATAGRAM;
        }

        @Override
        public SoleDatagram replace(ByteBuf content) {
            return new SoleDatagram(content);
        }

        @Override
        public String toString() {
            return "SoleDatagram[bytes=" + content().readableBytes() + "]";
        }
    }

    private static void checkLength(byte[] value, String name) {
        if (value == null || value.length != NONCE_LENGTH) {
            throw new IllegalArgumentException(name + " must be " + NONCE_LENGTH + " bytes");
        }
    }

    private static int checkVarint(int value, String name) {
        if (value < 0 || value > Varint.MAX_VALUE) {
            throw new IllegalArgumentException(name + " out of range: " + value);
        }
        return value;
    }
}
