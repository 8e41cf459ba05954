package io.sdt.core.tunnel.vpn;

import io.netty.buffer.ByteBuf;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.core.link.Link;
import io.sdt.core.tun.Offload;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;


/**
 * One VPN client as the server sees it: the channel its OPEN created on its link. Packets from the client
 * are checked (well-formed, from the client's own address, within the MTU) and handed to the server's
 * routing; packets for it arrive from the device thread in bursts and leave as DATAGRAMs on the link's
 * loop, dropped when the link already holds a backlog for this channel (UDP's rule: never wait).
 * Confined to the link's event loop except {@link #collect}, {@link #handOver} (device thread) and
 * {@link #sendFromAnotherLoop}.
 */
final class VpnServerPeer extends VpnChannel {

    private static final Logger log = LogManager.getLogger(VpnServerPeer.class);

    private final VpnServer server;
    private final Handover handover;
    /** Written on the link loop when admitted; read there, and by {@link VpnServer#peers()} after. */
    volatile VpnPool.Lease lease;
    /** When it was admitted (epoch milliseconds). */
    volatile long admittedAt;
    /** Whether the client takes packets with the offload header (and may send them); set when admitted. */
    boolean offload;
    private boolean open;

    VpnServerPeer(VpnServer server, Link link, int id) {
        super(link, id);
        this.server = server;
        this.handover = new Handover(server.counters());
    }

    @Override
    public boolean onVpnConfig(Frame.VpnConfig request) {
        if (open || closed) {
            return false; // one request per channel
        }
        Frame.VpnConfig grant;
        try {
            grant = server.admit(this, request);
        } catch (VpnPool.Refused r) {
            log.warn("{}: VPN client refused: {}", link, r.getMessage());
            closed = true;
            link.unregister(id);
            link.writeAndFlush(new Frame.OpenFail(id, VpnServer.code(r), r.getMessage()));
            return true;
        }
        open = true;
        link.write(new Frame.OpenOk(id, 0));
        link.writeAndFlush(grant);
        return true;
    }

    @Override
    public void onDatagram(ByteBuf payload) {
        try {
            if (!open) {
                link.protocolViolation("DATAGRAM on VPN channel " + id + " before its VPN_CONFIG");
                return;
            }
            server.counters().fromLink(payload.readableBytes());
            int version = IpPackets.version(payload);
            boolean marked = Offload.marked(payload);
            if (version == 0 || marked && !offload) { // with the header only once agreed
                server.counters().dropped(VpnCounters.Drop.MALFORMED);
                return;
            }
            if (!fromItsOwnAddress(payload, version)) {
                server.counters().dropped(VpnCounters.Drop.SPOOFED);
                return;
            }
            if ((marked ? Offload.segmentLength(payload) : payload.readableBytes()) > server.mtu()) {
                server.counters().dropped(VpnCounters.Drop.TOO_BIG);
                if (!marked && (version == 6 || IpPackets.dontFragment(payload))) {
                    ByteBuf icmp = server.tooBig(payload, version); // a router's answer: PMTU discovery
                    if (icmp != null) {
                        send(icmp);
                        link.flush();
                    }
                }
                return;
            }
            server.counters().superSegment(payload, false);
            server.route(this, payload, version);
        } finally {
            payload.release();
        }
    }

    private boolean fromItsOwnAddress(ByteBuf p, int version) {
        if (version == 4) {
            return lease.v4() != null && IpPackets.v4Source(p) == IpPackets.v4(lease.v4().address());
        }
        return lease.v6() != null && IpPackets.v6Source(p, 0) == IpPackets.v6(lease.v6().address(), 0)
                && IpPackets.v6Source(p, 1) == IpPackets.v6(lease.v6().address(), 1);
    }

    /** Device thread: keeps {@code packet} for this burst's hand-over; true if it is the burst's first. */
    boolean collect(ByteBuf packet) {
        return handover.add(packet);
    }

    /** Device thread, at the end of a burst: the burst's packets go to the link's loop in one task. */
    void handOver() {
        handover.handOver(link, this::send);
    }

    /** A packet from another client (client to client); called on that client's link loop. */
    void sendFromAnotherLoop(ByteBuf packet) {
        handover.one(link, packet, this::send);
    }

    /**
     * Link loop: {@code packet} leaves as a DATAGRAM unless the link is gone or congested; takes ownership.
     * A client that takes no offloads gets a super-segment as its segments.
     */
    private void send(ByteBuf packet) {
        if (closed || !open || link.isClosed()) {
            packet.release();
            return;
        }
        if (!offload && Offload.marked(packet)) {
            server.counters().superSegmentCut();
            try {
                Offload.toPlain(packet, packet.alloc(), this::send);
            } finally {
                packet.release();
            }
            return;
        }
        if (!link.canTakeDatagram(id, false)) {
            server.counters().dropped(VpnCounters.Drop.CONGESTED);
            packet.release();
            return;
        }
        server.counters().toLink(packet.readableBytes());
        server.counters().superSegment(packet, true);
        link.write(new Frame.Datagram(id, packet));
    }

    @Override
    public void onOpenOk(int window) {
        link.protocolViolation("OPEN_OK on VPN channel " + id + ", which the client opened");
    }

    @Override
    public void onOpenFail(ErrorCode code, String message) {
        link.protocolViolation("OPEN_FAIL on VPN channel " + id + ", which the client opened");
    }

    @Override
    void ended() {
        if (open) {
            server.leave(this);
        }
        open = false;
    }
}
