package io.sdt.core.tunnel;

import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.metrics.ModeTag;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One configured tunnel: the ssh-style SPEC of a {@code -L}, {@code -R} or {@code -D} flag (or a
 * {@code tunnels:} entry of a configuration file), as {@link TunnelSpecParser} reads it:
 * {@code [BIND_ADDR:]PORT:HOST:HOSTPORT[/tcp|/udp][,OPTION]...}. Its {@link #mode()} says which
 * implementation serves it.
 *
 * @param direction   {@link Direction#LOCAL} for {@code -L} (listener on the dialing node), {@link Direction#REMOTE}
 *                    for {@code -R} (listener on the far node)
 * @param udp         {@code /udp}
 * @param bind        where the ingress listens; BIND_ADDR defaults to 127.0.0.1 like ssh, {@code *} means all
 * @param target      where the egress connects, or {@code null} for a dynamic (router) tunnel, {@code -D} or
 *                    {@code -R [BIND_ADDR:]PORT}, whose customers name their own targets
 * @param maxChannels {@code max=N}: at most this many open channels, or UDP source tuples (0 = unlimited for
 *                    TCP, {@link #DEFAULT_UDP_MAX} for UDP)
 * @param idle        {@code idle=}: a UDP source tuple expires after this long without traffic
 * @param push        {@code push}: one way, every source into one channel, no reply path
 * @param peer        {@code peer=IP:PORT|IP:*}: direct mode, the only source the ingress accepts
 * @param recordMax   {@code record=}: longest newline-terminated record of a TCP push tunnel (default 8 KiB, or
 *                    64 KiB when producers speak RELP: a RELP message plus its newline)
 * @param spoolMax    {@code spool=}: bytes a TCP push egress holds while its target is away
 * @param durable     {@code spool-dir=} and its options: the ingress's durable spool of a TCP push tunnel,
 *                    or {@code null} (records are held in memory only)
 * @param relp        {@code relp[=in|out|both]}: which ends of a TCP push tunnel speak RELP (rsyslog's reliable
 *                    event logging protocol) instead of newline-terminated text
 * @param proxyProtocol {@code proxy-protocol}: the egress sends a PROXY v2 header naming the customer first
 * @param optimistic  {@code optimistic} ({@code -D}, {@code -R} without target): a SOCKS5 / HTTP CONNECT customer
 *                    hears success as soon
 *                    as its request is read, and its first bytes travel with the OPEN (early data); a refusal at
 *                    the far node then reaches it as a reset instead of the protocol's error reply
 * @param text        the spec as the user wrote it
 */
public record TunnelSpec(Direction direction, boolean udp, HostPort bind, HostPort target, int maxChannels,
                         Duration idle, boolean push, HostPort peer, int recordMax, int spoolMax,
                         DurablePush durable, Relp relp, boolean proxyProtocol, boolean optimistic, String text) {

    /** A spec without {@code ,optimistic}. */
    public TunnelSpec(Direction direction, boolean udp, HostPort bind, HostPort target, int maxChannels,
                      Duration idle, boolean push, HostPort peer, int recordMax, int spoolMax,
                      DurablePush durable, Relp relp, boolean proxyProtocol, String text) {
        this(direction, udp, bind, target, maxChannels, idle, push, peer, recordMax, spoolMax, durable, relp,
                proxyProtocol, false, text);
    }

    /** A spec without {@code ,proxy-protocol}. */
    public TunnelSpec(Direction direction, boolean udp, HostPort bind, HostPort target, int maxChannels,
                      Duration idle, boolean push, HostPort peer, int recordMax, int spoolMax,
                      DurablePush durable, Relp relp, String text) {
        this(direction, udp, bind, target, maxChannels, idle, push, peer, recordMax, spoolMax, durable, relp, false, text);
    }

    /**
     * Which ends of a TCP push tunnel speak RELP: {@code in}, the ingress towards its producers (they are
     * answered once a record is in the durable spool); {@code out}, the egress towards the target (a record
     * counts as delivered when the log server acknowledged it); {@code relp} alone means both.
     */
    public enum Relp {
        NONE, IN, OUT, BOTH;

        public boolean in() {
            return this == IN || this == BOTH;
        }

        public boolean out() {
            return this == OUT || this == BOTH;
        }
    }

    public TunnelSpec(Direction direction, boolean udp, HostPort bind, HostPort target, int maxChannels,
                      Duration idle, boolean push, HostPort peer, int recordMax, int spoolMax,
                      DurablePush durable, String text) {
        this(direction, udp, bind, target, maxChannels, idle, push, peer, recordMax, spoolMax, durable, Relp.NONE, text);
    }

    /**
     * A TCP push tunnel's durable spool at its ingress: {@code spool-dir=DIR}, {@code fsync=always|interval|never}
     * (default interval: at most a second of records lost on a power loss, none on a process crash),
     * {@code overflow=block|drop} (default block: a full spool stops reading the producers) and
     * {@code spool-max=SIZE} (default 1 GiB on disk).
     */
    public record DurablePush(Path dir, String fsync, boolean drop, long maxBytes) {
        public static final String DEFAULT_FSYNC = "interval";
        public static final long DEFAULT_MAX_BYTES = 1L << 30;
    }

    /** Longest record of a TCP push tunnel when the spec gives no {@code record=}. */
    public static final int DEFAULT_RECORD_MAX = 8 * 1024;
    /** Largest {@code record=}: one record travels in one DATA frame. */
    public static final int RECORD_LIMIT = 64 * 1024;
    /** Spool of a TCP push tunnel's egress when the spec gives no {@code spool=}. */
    public static final int DEFAULT_SPOOL_MAX = 64 << 20;

    /** Idle expiry of a UDP source tuple when the spec gives no {@code idle=}. */
    public static final Duration DEFAULT_UDP_IDLE = Duration.ofSeconds(60);
    /** Source tuples a UDP tunnel keeps when the spec gives no {@code max=}. */
    public static final int DEFAULT_UDP_MAX = 16_384;

    public TunnelSpec {
        if (idle == null) {
            idle = DEFAULT_UDP_IDLE;
        }
        if (relp == null) {
            relp = Relp.NONE;
        }
        if (recordMax <= 0) {
            // rsyslog's messages may be up to its maxMessageSize, 8k by default, and more where raised
            recordMax = relp.in() ? RECORD_LIMIT : DEFAULT_RECORD_MAX;
        }
        if (spoolMax <= 0) {
            spoolMax = DEFAULT_SPOOL_MAX;
        }
        if (optimistic && target != null) {
            throw new IllegalArgumentException("optimistic applies to a dynamic listener only");
        }
    }

    /** The implementation that serves this tunnel: router without a target, else push or forward. */
    public Mode mode() {
        return target == null ? Mode.ROUTER : push ? Mode.PUSH : Mode.FORWARD;
    }

    /**
     * The {@code mode} tag of this tunnel's metrics, in this precedence: dynamic (a router), direct
     * ({@code peer=}), push, udp, tcp.
     */
    public ModeTag tag() {
        if (target == null) {
            return ModeTag.DYNAMIC;
        }
        if (peer != null) {
            return ModeTag.DIRECT;
        }
        if (push) {
            return ModeTag.PUSH;
        }
        return udp ? ModeTag.UDP : ModeTag.TCP;
    }

    /** This spec with {@code optimistic} set (a dynamic listener). */
    TunnelSpec withOptimistic() {
        return new TunnelSpec(direction, udp, bind, target, maxChannels, idle, push, peer, recordMax, spoolMax, durable,
                relp, proxyProtocol, true, text);
    }

    /** A router tunnel (SOCKS5 / HTTP CONNECT): each channel carries the target its customer asked for. */
    public boolean dynamic() {
        return target == null;
    }

    /**
     * Whether a channel the far node opened ({@code OPEN}) fits this tunnel: a router takes TCP and UDP
     * channels but no push, the others exactly their own kind.
     */
    public boolean fits(Frame.Open open) {
        return dynamic() ? !open.push() : open.udp() == udp && open.push() == push;
    }

    /** Direct mode with one exact source port ({@code peer=IP:PORT}, not {@code IP:*}). */
    public boolean exactPeer() {
        return peer != null && peer.port() != 0;
    }

    /**
     * True if a link carries exactly these tunnels and they are one direct UDP tunnel with an exact peer:
     * then its one channel sends datagrams with no channel-id bytes (SOLE_DATAGRAM).
     */
    public static boolean sole(List<TunnelSpec> specs) {
        return specs.size() == 1 && specs.getFirst().udp() && specs.getFirst().exactPeer();
    }

    /** The tuple cap of a UDP tunnel: {@code max=} or the default. */
    public int udpTableCap() {
        return maxChannels > 0 ? maxChannels : DEFAULT_UDP_MAX;
    }

    public enum Direction {
        LOCAL("-L"), REMOTE("-R");

        private final String flag;

        Direction(String flag) {
            this.flag = flag;
        }

        public String flag() {
            return flag;
        }
    }

    /** {@code L:spec} or {@code R:spec}, the name used in logs. */
    public String label() {
        return (direction == Direction.LOCAL ? "" : "R:") + text;
    }

    @Override
    public String toString() {
        return label();
    }
}
