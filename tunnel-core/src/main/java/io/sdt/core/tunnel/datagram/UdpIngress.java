package io.sdt.core.tunnel.datagram;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Ticker;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkChannel;
import io.sdt.core.metrics.ModeTag;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.IngressContext;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The ingress of a UDP tunnel: one socket at X:x and a table that maps each source tuple A:a to a
 * channel of the link. The first datagram of a source opens its channel (OPEN with the UDP flag);
 * later ones follow as DATAGRAM frames without waiting for OPEN_OK. Replies are sent back to A:a
 * from X:x, so A sees them come from the address it sent to.
 *
 * <p>The table is a Caffeine cache on the socket's event loop (maintenance runs inline): a tuple
 * expires after the tunnel's {@code idle=} without traffic in either direction, and when the
 * table holds {@code max=} tuples the idlest is evicted and counted. Removing a tuple closes its
 * channel on both nodes. Time comes from an injectable {@link Ticker}.
 *
 * <p>Confined to one event loop, which must be the loop of every link it uses.
 */
public final class UdpIngress {

    private static final Logger log = LogManager.getLogger(UdpIngress.class);

    /** The table key of the one channel of a tunnel whose sources share it. */
    private static final InetSocketAddress SHARED_KEY = new InetSocketAddress(0);

    private final Tunnel tunnel;
    private final HostPort target;
    private final Supplier<Link> links;
    /** The link this read burst wrote to and has not flushed yet, or {@code null}. */
    private Link unflushed;
    private final int cap;
    private final Cache<InetSocketAddress, Tuple> table;
    /** Every source shares one channel and nothing comes back (push mode). */
    private final boolean oneWay;
    private final ModeTag mode;
    private Channel socket;
    private ScheduledFuture<?> cleaner;

    private final boolean sole;
    private final CoarseTicker clock;
    /** Set by the first datagram of a read burst; cleared when the burst completes. */
    private boolean inBurst;

    private UdpIngress(Tunnel tunnel, IngressContext in, boolean oneWay) {
        this.sole = in.sole();
        this.tunnel = tunnel;
        this.target = tunnel.spec().target();
        this.links = in.links();
        this.cap = tunnel.spec().udpTableCap();
        this.oneWay = oneWay;
        this.mode = tunnel.spec().tag();
        this.clock = new CoarseTicker(in.ticker());
        this.table = Caffeine.newBuilder()
                .expireAfterAccess(tunnel.spec().idle())
                .ticker(clock)
                .executor(Runnable::run)
                .removalListener((InetSocketAddress source, Tuple t, RemovalCause cause) -> {
                    if (t != null) {
                        t.removed(cause);
                    }
                })
                .build();
        tunnel.tableSize(table::estimatedSize);
    }

    /**
     * Binds the ingress socket of {@code tunnel} on the context's loop.
     *
     * @param oneWay every source shares one channel and no datagram comes back (push mode); otherwise
     *               each source tuple gets its channel and its replies (forward mode)
     */
    public static ChannelFuture bind(Tunnel tunnel, IngressContext in, boolean oneWay) {
        UdpIngress ingress = new UdpIngress(tunnel, in, oneWay);
        EventLoop loop = in.loop();
        Bootstrap b = new Bootstrap().group(loop).channel(in.transport().datagramChannel()).handler(ingress.new Reader());
        Datagrams.configure(b);
        ChannelFuture f = b.bind(tunnel.spec().bind().toSocketAddress());
        f.addListener(x -> {
            if (x.isSuccess()) {
                ingress.socket = f.channel();
                ingress.cleaner = loop.scheduleAtFixedRate(ingress::cleanUp, 1, 1, TimeUnit.SECONDS);
                f.channel().closeFuture().addListener(c -> ingress.closed());
            }
        });
        return f;
    }

    private void cleanUp() {
        clock.refresh();
        table.cleanUp();
    }

    private void closed() {
        if (cleaner != null) {
            cleaner.cancel(false);
        }
        table.invalidateAll();
    }

    private void onDatagram(DatagramPacket packet) {
        InetSocketAddress sender = packet.sender();
        if (!tunnel.admits(sender)) {
            tunnel.strangerDropped();
            drop(null, packet.content());
            return;
        }
        // push mode: every source shares one channel, and nothing comes back
        InetSocketAddress source = oneWay ? SHARED_KEY : sender;
        Tuple t = table.getIfPresent(source);
        // a tuple stays on its link while that is up; a new one (or one whose link went) takes the link given now
        Link link = t != null && !t.link.isClosed() ? t.link : links.get();
        if (link == null || link.isClosed()) {
            drop(null, packet.content());
            return;
        }
        if (t == null || t.link != link) {
            t = open(link, source);
        }
        if (t.refused || !link.canTakeDatagram(t.id, t.sole)) {
            drop(link, packet.content());
            return;
        }
        if (unflushed != link) {
            if (unflushed != null) {
                unflushed.flush(); // this burst moves to another link: what it wrote on the last one goes now
            }
            unflushed = link;
        }
        ByteBuf payload = Datagrams.rightSized(packet.content().retain());
        tunnel.datagramIn();
        tunnel.sentToLink(payload.readableBytes());
        link.stats().datagramToLink();
        link.stats().sentToLink(payload.readableBytes());
        if (t.sole) {
            link.stats().soleDatagram();
            link.write(new Frame.SoleDatagram(payload));
        } else {
            link.write(new Frame.Datagram(t.id, payload));
        }
    }

    private Tuple open(Link link, InetSocketAddress source) {
        if (table.estimatedSize() >= cap) {
            table.cleanUp();
            if (table.estimatedSize() >= cap) {
                table.policy().expireAfterAccess().ifPresent(p -> p.oldest(1).keySet().forEach(idlest -> {
                    tunnel.tupleEvicted();
                    table.invalidate(idlest);
                }));
            }
        }
        Tuple t = new Tuple(link, link.allocateChannelId(), source);
        link.register(t.id, t);
        t.sole = sole && link.markSole(t.id);
        table.put(source, t);
        tunnel.acquired();
        link.stats().channelOpened();
        t.openSentAt = link.stats().openSent();
        link.write(new Frame.Open(t.id, tunnel.id(), 0, true, oneWay, t.sole, target, HostPort.of(source)));
        return t;
    }

    /** Counts a dropped datagram (against {@code link}'s node, or the link given now when it had none). */
    private void drop(Link link, ByteBuf content) {
        tunnel.datagramDropped();
        Link counted = link != null ? link : links.get();
        if (counted != null) {
            counted.stats().datagramDropped();
        }
        content.skipBytes(content.readableBytes());
    }

    /** Reads the ingress socket; the packet is released by SimpleChannelInboundHandler. */
    private final class Reader extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            if (!inBurst) {
                inBurst = true;
                clock.refresh();
            }
            onDatagram(packet);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            inBurst = false;
            if (unflushed != null) {
                unflushed.flush();
                unflushed = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("{}: ingress socket error: {}", tunnel, cause.getMessage());
        }
    }

    /** One source tuple: a channel of the link. Confined to the ingress loop. */
    private final class Tuple implements LinkChannel {
        final Link link;
        final int id;
        final InetSocketAddress source;
        boolean sole;
        boolean refused;
        boolean closedByPeer;
        boolean gone;
        boolean flushRequested;
        long openSentAt;

        Tuple(Link link, int id, InetSocketAddress source) {
            this.link = link;
            this.id = id;
            this.source = source;
        }

        /** Called by the table for expiry, eviction, replacement and explicit removal. */
        void removed(RemovalCause cause) {
            if (gone) {
                return;
            }
            gone = true;
            if (cause == RemovalCause.EXPIRED) {
                tunnel.tupleExpired();
            }
            link.unregister(id);
            link.stats().channelClosed();
            tunnel.release();
            if (!closedByPeer && !link.isClosed()) {
                link.writeAndFlush(new Frame.Close(id, cause == RemovalCause.EXPIRED ? ErrorCode.TIMEOUT : ErrorCode.NONE));
            }
        }

        @Override
        public void onOpenOk(int window) {
            // datagrams were already flowing; only the time to the answer is news
            link.stats().openAnswered(mode, true, openSentAt);
        }

        @Override
        public void onOpenFail(ErrorCode code, String message) {
            if (!refused) {
                refused = true;
                link.stats().openAnswered(mode, false, openSentAt);
                tunnel.channelFailed(message);
                if (code == ErrorCode.DENIED) {
                    log.warn("{} refused by the peer: {}", tunnel, message);
                } else {
                    log.info("{}: datagrams from {} refused: {}", tunnel, source, message);
                }
            }
            // the tuple stays, marked refused, until it goes idle: its datagrams are dropped, not re-opened
            link.unregister(id);
        }

        @Override
        public void onDatagram(ByteBuf payload) {
            Channel s = socket;
            if (gone || oneWay || s == null || !Datagrams.canWrite(s)) {
                payload.release();
                tunnel.datagramDropped();
                link.stats().datagramDropped();
                return;
            }
            table.getIfPresent(source);
            tunnel.datagramOut();
            tunnel.receivedFromLink(payload.readableBytes());
            link.stats().datagramFromLink();
            s.write(new DatagramPacket(payload, source), s.voidPromise());
            if (!flushRequested) {
                flushRequested = true;
                link.requestLocalFlush(this);
            }
        }

        @Override
        public void flushLocal() {
            flushRequested = false;
            Channel s = socket;
            if (s != null) {
                s.flush();
            }
        }

        @Override
        public void onData(ByteBuf payload) {
            link.reject(payload, "DATA on UDP channel " + id);
        }

        @Override
        public void onClose(ErrorCode code) {
            closedByPeer = true;
            table.asMap().remove(source, this);
        }

        @Override
        public void onLinkClosed() {
            closedByPeer = true;
            table.asMap().remove(source, this);
        }
    }
}
