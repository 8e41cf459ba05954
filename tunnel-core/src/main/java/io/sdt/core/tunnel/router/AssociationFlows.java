package io.sdt.core.tunnel.router;

import io.netty.buffer.ByteBuf;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkChannel;
import io.sdt.core.metrics.ModeTag;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.router.proxy.UdpAssociation;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * The datagrams of one SOCKS5 UDP association: one UDP channel of the link per target the customer
 * writes to (OPEN with the UDP flag carries the target, so the far node checks its policy and opens
 * one socket per target); replies come back through {@link UdpAssociation#reply}. At most
 * {@link #MAX_FLOWS} targets per association: beyond that the flow used longest ago is closed and
 * counted. Everything ends with the association (its TCP control connection), or with the link.
 *
 * <p>Confined to the link's event loop (the association's socket shares it). Payloads handed in
 * by the association are written to the link or released here, and replies are handed to the
 * association, which owns them from then on.
 */
final class AssociationFlows implements UdpAssociation.Sink {

    private static final Logger log = LogManager.getLogger(AssociationFlows.class);
    static final int MAX_FLOWS = 64;

    private final Link link;
    private final Tunnel tunnel;
    private final UdpAssociation association;
    /** In access order, so the first entry is the flow used longest ago. */
    private final LinkedHashMap<HostPort, Flow> flows = new LinkedHashMap<>(16, 0.75f, true);
    private boolean closed;

    AssociationFlows(Link link, Tunnel tunnel, UdpAssociation association) {
        this.link = link;
        this.tunnel = tunnel;
        this.association = association;
    }

    @Override
    public void datagram(HostPort target, ByteBuf payload) {
        if (closed || link.isClosed()) {
            drop(payload);
            return;
        }
        Flow f = flows.get(target);
        if (f == null) {
            if (flows.size() >= MAX_FLOWS) {
                Iterator<Flow> eldest = flows.values().iterator();
                Flow old = eldest.next();
                eldest.remove();
                tunnel.tupleEvicted();
                old.close(ErrorCode.NONE);
            }
            f = new Flow(target, link.allocateChannelId());
            link.register(f.id, f);
            flows.put(target, f);
            link.stats().channelOpened();
            f.openSentAt = link.stats().openSent();
            link.write(new Frame.Open(f.id, tunnel.id(), 0, true, target));
        }
        if (f.refused || !link.canTakeDatagram(f.id, false)) {
            drop(payload);
            return;
        }
        tunnel.datagramIn();
        tunnel.sentToLink(payload.readableBytes());
        link.stats().datagramToLink();
        link.stats().sentToLink(payload.readableBytes());
        link.write(new Frame.Datagram(f.id, payload));
    }

    /** One link flush per read burst of the association's socket, not one per datagram. */
    @Override
    public void burstEnded() {
        link.flush();
    }

    private void drop(ByteBuf payload) {
        payload.release();
        tunnel.datagramDropped();
        link.stats().datagramDropped();
    }

    @Override
    public void closed() {
        if (closed) {
            return;
        }
        closed = true;
        for (Flow f : flows.values()) {
            f.close(ErrorCode.NONE);
        }
        flows.clear();
        link.flush();
        tunnel.release();
    }

    /** One target of the association: a UDP channel of the link. */
    private final class Flow implements LinkChannel {
        final HostPort target;
        final int id;
        boolean refused;
        boolean gone;
        long openSentAt;

        Flow(HostPort target, int id) {
            this.target = target;
            this.id = id;
        }

        /** Closes this flow from our side. */
        void close(ErrorCode code) {
            if (gone) {
                return;
            }
            finish();
            if (!link.isClosed()) {
                link.write(new Frame.Close(id, code));
            }
        }

        private void finish() {
            gone = true;
            link.unregister(id);
            link.stats().channelClosed();
        }

        @Override
        public void onOpenOk(int window) {
            // datagrams were already flowing; only the time to the answer is news
            link.stats().openAnswered(ModeTag.DYNAMIC, true, openSentAt);
        }

        @Override
        public void onOpenFail(ErrorCode code, String message) {
            if (!refused) {
                refused = true;
                link.stats().openAnswered(ModeTag.DYNAMIC, false, openSentAt);
                tunnel.channelFailed(message);
                log.info("{}: UDP to {} through an association refused: {}", link, target, message);
            }
            // stays in the table, refused, so that its datagrams are dropped instead of re-opening
            link.unregister(id);
        }

        @Override
        public void onDatagram(ByteBuf payload) {
            if (gone || closed) {
                payload.release();
                tunnel.datagramDropped();
                return;
            }
            tunnel.datagramOut();
            tunnel.receivedFromLink(payload.readableBytes());
            link.stats().datagramFromLink();
            association.reply(target, payload);
        }

        @Override
        public void onData(ByteBuf payload) {
            link.reject(payload, "DATA on UDP channel " + id);
        }

        @Override
        public void onClose(ErrorCode code) {
            if (!gone) {
                finish();
                flows.remove(target, this);
            }
        }

        @Override
        public void onLinkClosed() {
            if (!gone) {
                finish();
                flows.remove(target, this);
                association.close();
            }
        }
    }
}
