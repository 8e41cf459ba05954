package io.sdt.core.tunnel.datagram;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.link.LinkChannel;
import io.sdt.core.link.LinkSockets;
import io.sdt.core.transport.Outbound;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.ArrayDeque;

/**
 * The egress of one UDP channel: a socket of its own, connected to the target B:b, so it sends
 * from one address Y:y for this source tuple and reads only B:b's replies. Datagrams that arrive
 * while the socket is still being set up wait in a small bounded queue; beyond it they are dropped
 * and counted, as are datagrams the socket or the link cannot take. Confined to the link's loop.
 */
public final class UdpEgress implements LinkChannel {

    private static final Logger log = LogManager.getLogger(UdpEgress.class);
    /**
     * Bytes of datagrams held while the egress socket is being connected: the backlog a datagram may
     * wait behind on the link, so a burst the link carried (all of push's sources at once) is not lost
     * to a slow socket set-up at this end.
     */
    static final int PENDING_LIMIT = LinkSockets.DATAGRAM_BACKLOG;

    private final Link link;
    private final int id;
    private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>();
    private int pendingBytes;
    private Channel socket;
    /** Same-size datagrams waiting to leave in one GSO send, or {@code null} without GSO. */
    private GsoBatch batch;
    private boolean closed;
    private boolean flushRequested;

    private final boolean push;
    private final boolean sole;
    /** A client's own {@code -R .../udp} tunnel, whose byte counters count this channel; else {@code null}. */
    private final Tunnel meter;

    private UdpEgress(Link link, int id, boolean push, boolean sole, Tunnel meter) {
        this.link = link;
        this.id = id;
        this.push = push;
        this.sole = sole;
        this.meter = meter;
    }

    /**
     * Opens the egress of a UDP channel the peer opened; policy has been checked.
     *
     * @param tunnel this node's own tunnel (a client's {@code -R}), or {@code null} when the far node configured it
     */
    public static void open(Link link, Frame.Open open, HostPort target, Outbound outbound, Tunnel tunnel) {
        UdpEgress egress = new UdpEgress(link, open.channel(), open.push(), open.sole(), tunnel);
        link.register(egress.id, egress);
        if (open.sole() && !link.markSole(egress.id)) {
            return;
        }
        Bootstrap b = new Bootstrap().group(link.eventLoop()).channel(outbound.transport().datagramChannel())
                .resolver(outbound.resolver())
                .handler(egress.new Reader());
        Datagrams.configure(b);
        b.connect(target.toSocketAddress()).addListener((ChannelFuture f) -> egress.onConnected(f, target));
    }

    private void onConnected(ChannelFuture f, HostPort target) {
        if (closed) {
            f.channel().close();
            return;
        }
        if (!f.isSuccess()) {
            closed = true;
            link.unregister(id);
            releasePending();
            link.stats().openFailed();
            log.info("{}: UDP channel {} to {} failed: {}", link, id, target, f.cause().getMessage());
            link.writeAndFlush(new Frame.OpenFail(id, ErrorCode.UNREACHABLE,
                    "UDP to " + target + " failed: " + f.cause().getMessage()));
            return;
        }
        socket = f.channel();
        batch = GsoBatch.forSocket(socket, link.stats());
        link.stats().channelOpened();
        link.writeAndFlush(new Frame.OpenOk(id, 0));
        ByteBuf b;
        while ((b = pending.poll()) != null) {
            send(b);
        }
        pendingBytes = 0;
        flushLocal();
    }

    @Override
    public void onDatagram(ByteBuf payload) {
        if (closed) {
            payload.release();
            return;
        }
        link.stats().datagramFromLink();
        if (meter != null) {
            meter.receivedFromLink(payload.readableBytes());
        }
        if (socket == null) {
            if (pendingBytes + payload.readableBytes() <= PENDING_LIMIT) {
                pendingBytes += payload.readableBytes();
                pending.add(payload);
            } else {
                payload.release();
                link.stats().datagramDropped();
            }
            return;
        }
        send(payload);
        if (!flushRequested) {
            flushRequested = true;
            link.requestLocalFlush(this);
        }
    }

    private void send(ByteBuf payload) {
        if (!Datagrams.canWrite(socket)) {
            payload.release();
            link.stats().datagramDropped();
            return;
        }
        if (batch != null) {
            batch.add(payload);
        } else {
            socket.write(payload, socket.voidPromise());
        }
    }

    @Override
    public void flushLocal() {
        flushRequested = false;
        if (socket != null) {
            if (batch != null) {
                batch.emit();
            }
            socket.flush();
        }
    }

    @Override
    public void onClose(ErrorCode code) {
        closeLocal();
    }

    @Override
    public void onLinkClosed() {
        closeLocal();
    }

    private void closeLocal() {
        if (closed) {
            return;
        }
        closed = true;
        link.unregister(id);
        releasePending();
        if (socket != null) {
            if (batch != null) {
                batch.release();
            }
            link.stats().channelClosed();
            socket.close();
        }
    }

    private void releasePending() {
        Link.releaseAll(pending);
    }

    @Override
    public void onOpenOk(int window) {
        link.protocolViolation("OPEN_OK for egress UDP channel " + id);
    }

    @Override
    public void onOpenFail(ErrorCode code, String message) {
        link.protocolViolation("OPEN_FAIL for egress UDP channel " + id);
    }

    @Override
    public void onData(ByteBuf payload) {
        link.reject(payload, "DATA on UDP channel " + id);
    }

    /** Replies from the target go back over the link, or are dropped when it is congested. */
    private final class Reader extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            if (push) {
                return; // a push channel has no reply path; the packet is released by the superclass
            }
            if (closed || link.isClosed() || !link.canTakeDatagram(id, sole)) {
                link.stats().datagramDropped();
                return;
            }
            ByteBuf payload = Datagrams.rightSized(packet.content().retain());
            link.stats().datagramToLink();
            link.stats().sentToLink(payload.readableBytes());
            if (meter != null) {
                meter.sentToLink(payload.readableBytes());
            }
            if (sole) {
                link.stats().soleDatagram();
                link.write(new Frame.SoleDatagram(payload));
            } else {
                link.write(new Frame.Datagram(id, payload));
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            link.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // e.g. ICMP port unreachable on the connected socket: the target may come back
            log.debug("{}: UDP channel {}: {}", link, id, cause.getMessage());
        }
    }
}
