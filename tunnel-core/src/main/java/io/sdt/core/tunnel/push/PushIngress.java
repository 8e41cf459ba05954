package io.sdt.core.tunnel.push;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.ReferenceCountUtil;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkChannel;
import io.sdt.core.link.SendWindow;
import io.sdt.core.metrics.ModeTag;
import io.sdt.core.tunnel.IngressContext;
import io.sdt.core.tunnel.Tunnel;
import io.sdt.core.tunnel.TunnelSpec;
import io.sdt.core.tunnel.push.relp.RelpDecoder;
import io.sdt.core.tunnel.push.relp.RelpServer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The ingress of a TCP push tunnel: any number of producers connect to X:x and write
 * newline-terminated records; each whole record goes into the tunnel's one channel as one DATA
 * frame, so records from different producers never interleave. A record longer than
 * {@code record=} is discarded and counted. When the channel has no credit, or no link is up,
 * records wait in a bounded queue and the producers are no longer read (TCP pushes back on them);
 * nothing is dropped here.
 *
 * <p>With {@code spool-dir=} the records go to a durable spool on disk instead of the queue
 * ({@link SpoolPump}): each is numbered, sent from the spool (PUSH_SEQ gives the egress the number of
 * the next DATA), and deleted only when the egress acknowledges it (PUSH_ACK). After a link drop or a
 * restart of this node, everything unacknowledged is sent again; the egress drops what it had already
 * delivered. A full spool stops reading the producers (overflow=block) or drops and counts
 * (overflow=drop).
 *
 * <p>With {@code relp} (or {@code relp=in}) producers speak RELP instead ({@link RelpServer}): each
 * syslog message becomes a record with a newline appended, and is answered only once it is in the
 * durable spool, so a producer such as rsyslog's omrelp sends again whatever this node had not made
 * safe when it died.
 *
 * <p>Confined to one event loop, which must be the loop of every link it uses.
 */
public final class PushIngress {

    private static final Logger log = LogManager.getLogger(PushIngress.class);
    /** Records waiting for credit or a link; above this the producers are paused. */
    static final int QUEUE_HIGH = 1 << 20;
    static final int QUEUE_LOW = 256 * 1024;

    private final Tunnel tunnel;
    private final HostPort target;
    private final Supplier<Link> links;
    private final EventLoop loop;
    private final ModeTag mode;
    private final io.sdt.core.metrics.NodeStats stats;
    private final List<Channel> producers = new ArrayList<>();
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    private int queued;
    private boolean paused;
    private boolean retryScheduled;
    private boolean closing;
    private Link refusedOn;
    private Upstream channel;
    /** Durable only ({@code spool-dir=}): the spool and where this node stands in it. */
    private SpoolPump pump;
    private long appended;
    private long acked;
    private boolean spoolFull;
    private boolean fetching;
    /** Bytes handed to the spool thread and not appended yet: above QUEUE_HIGH the producers wait. */
    private long toSpool;
    /** Completes once the durable spool is closed (what was handed to it is on disk). */
    private final java.util.concurrent.CompletableFuture<Void> stopped = new java.util.concurrent.CompletableFuture<>();
    /** Records offered to the spool, and how many of them it has settled: RELP answers wait for these. */
    private long offered;
    private long settled;
    /** A spool at its limit flips between full and free with every acknowledgement: ration those lines. */
    private final io.sdt.core.link.LogBudget spoolNews = io.sdt.core.link.LogBudget.perMinute(log,
            "durable spool full/free changes");

    private PushIngress(Tunnel tunnel, Supplier<Link> links, EventLoop loop, io.sdt.core.metrics.NodeStats stats) {
        this.stats = stats;
        this.tunnel = tunnel;
        this.target = tunnel.spec().target();
        this.links = links;
        this.loop = loop;
        TunnelSpec spec = tunnel.spec();
        this.mode = spec.tag();
    }

    /** Binds the producers' listener of {@code tunnel}; their sockets are registered on the context's loop. */
    public static ChannelFuture bind(Tunnel tunnel, IngressContext in) {
        EventLoop loop = in.loop();
        PushIngress ingress = new PushIngress(tunnel, in.links(), loop, in.stats());
        TunnelSpec.DurablePush durable = tunnel.spec().durable();
        if (durable != null) {
            ingress.pump = SpoolPump.open(loop, durable, ingress.new SpoolEvents(), tunnel.toString());
            tunnel.stopsWith(ingress.stopped);
            ingress.appended = ingress.pump.lastAppended();
            ingress.acked = ingress.pump.ackedAtStart();
            if (ingress.appended > ingress.acked) {
                loop.execute(ingress::drain); // what the last run left unacknowledged goes first
            }
        }
        return new ServerBootstrap().group(loop, loop).channel(in.transport().serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (!tunnel.admits((InetSocketAddress) ch.remoteAddress())) {
                            tunnel.strangerDropped();
                            ch.close();
                            return;
                        }
                        if (tunnel.spec().relp().in()) {
                            // a RELP message plus the newline it gets must fit record=
                            ch.pipeline().addLast(new RelpDecoder(tunnel.spec().recordMax() - 1),
                                    new RelpServer(ingress::offerTicket, ingress::relpBroken));
                        } else {
                            ch.pipeline().addLast(new LineBasedFrameDecoder(tunnel.spec().recordMax(), false, true));
                        }
                        ch.pipeline().addLast(ingress.new Producer());
                        ingress.producers.add(ch);
                        ch.config().setAutoRead(!ingress.paused);
                        ch.closeFuture().addListener(f -> ingress.producers.remove(ch));
                    }
                })
                .bind(tunnel.spec().bind().toSocketAddress())
                .addListener((ChannelFuture f) -> {
                    if (f.isSuccess()) {
                        f.channel().closeFuture().addListener(x -> loop.execute(ingress::closed));
                    } else {
                        loop.execute(ingress::closed); // no listener: the spool and its thread go now
                    }
                });
    }

    /** The listener is gone: close the producers and release what is still queued. */
    private void closed() {
        closing = true;
        for (Channel p : producers.toArray(new Channel[0])) {
            p.close();
        }
        Link.releaseAll(queue);
        if (pump != null) {
            pump.close().whenComplete((v, e) -> stopped.complete(null));
        }
        if (queued > 0) {
            log.warn("{}: closed with {} bytes of records never sent", tunnel, queued);
        }
        queued = 0;
    }

    /** A RELP producer's record: its ticket settles once the spool has it ({@link RelpServer#settled}). */
    private long offerTicket(ByteBuf record) {
        if (closing) {
            record.release();
            return Long.MAX_VALUE; // never answered: the producer sends it again to the next run
        }
        offer(record);
        return offered;
    }

    private final io.sdt.core.link.LogBudget relpNews = io.sdt.core.link.LogBudget.perMinute(log,
            "broken RELP sessions");

    private void relpBroken(ChannelHandlerContext ctx, String why) {
        tunnel.channelFailed("RELP: " + why);
        relpNews.log(org.apache.logging.log4j.Level.WARN, "{}: RELP producer {} broke the protocol ({}); closing its"
                + " session, it sends its unanswered messages again", tunnel, ctx.channel().remoteAddress(), why);
    }

    private void offer(ByteBuf record) {
        if (closing) {
            record.release();
            return;
        }
        tunnel.datagramIn();
        if (pump != null) {
            offered++;
            pump.offer(record);
            return;
        }
        queue.add(record);
        queued += record.readableBytes();
        drain(false);
        if (queued > QUEUE_HIGH && !paused) {
            setPaused(true);
        }
    }

    /** Sends queued records while there is a link and credit; flushes the link if asked. */
    private void drain() {
        drain(true);
    }

    private void drain(boolean flush) {
        // the stream stays on its link while that is up: a new link is taken only when it went (or refused)
        Link link = channel != null && !channel.link.isClosed() && channel.link != refusedOn ? channel.link : links.get();
        if (link == null || link.isClosed() || link == refusedOn) {
            retryLater();
            return;
        }
        if (channel == null || channel.link != link) {
            if (pump != null && appended <= acked) {
                return; // nothing to send: no channel until there is
            }
            channel = new Upstream(link);
        }
        if (!channel.open) {
            return;
        }
        if (pump != null) {
            sendFromSpool(channel);
            return;
        }
        boolean wrote = false;
        while (!queue.isEmpty() && channel.credit.fits(queue.peek().readableBytes())
                && link.canQueue(channel.id)) {
            ByteBuf r = queue.poll();
            queued -= r.readableBytes();
            channel.credit.consume(r.readableBytes());
            link.stats().sentToLink(r.readableBytes());
            tunnel.sentToLink(r.readableBytes());
            link.write(new Frame.Data(channel.id, r));
            wrote = true;
        }
        if (wrote && flush) {
            link.flush();
        }
        if (paused && queued < QUEUE_LOW) {
            setPaused(false);
        }
    }

    /** Asks the spool for what this channel has not sent yet, as far as its credit goes, and sends it. */
    private void sendFromSpool(Upstream up) {
        if (fetching || up.sent >= appended || up.credit.available() < tunnel.spec().recordMax()) {
            log.debug("{}: not sending: fetching {}, sent {}, appended {}, acked {}, credit {}", tunnel, fetching, up.sent,
                    appended, acked, up.credit.available());
            return;
        }
        fetching = true;
        pump.fetch(up.sent, (int) Math.min(Integer.MAX_VALUE, up.credit.available()), records -> {
            fetching = false;
            boolean current = channel == up && up.open && !up.link.isClosed();
            for (SpoolPump.Fetched f : records) {
                if (!current || f.seq() <= up.sent) {
                    f.record().release();
                    continue;
                }
                if (f.seq() != up.sent + 1 || up.sent == up.startedAfter) {
                    up.link.write(new Frame.PushSeq(up.id, pump.id(), f.seq()));
                }
                int n = f.record().readableBytes();
                up.credit.consume(n);
                up.link.stats().sentToLink(n);
                tunnel.sentToLink(n);
                up.link.write(new Frame.Data(up.id, f.record()));
                up.sent = f.seq();
            }
            if (current) {
                up.link.flush();
                sendFromSpool(up);
            } else {
                drain(); // the channel changed while reading: start the one now current
            }
        });
    }

    /** The durable spool's news, on the loop. */
    private final class SpoolEvents implements SpoolPump.Listener {
        @Override
        public void appended(long last, boolean full, long taken, long done) {
            appended = last;
            toSpool -= taken;
            if (done > settled) {
                settled = done;
                if (tunnel.spec().relp().in()) {
                    for (Channel p : producers) {
                        RelpServer relp = p.pipeline().get(RelpServer.class);
                        if (relp != null) {
                            relp.settled(settled);
                        }
                    }
                }
            }
            if (full != spoolFull) {
                spoolFull = full;
                spoolNews.log(org.apache.logging.log4j.Level.WARN, "{}: the durable spool is {}", tunnel,
                        full ? "full: producers are held until the far side acknowledges records" : "taking records again");
            }
            boolean hold = spoolFull || toSpool > QUEUE_HIGH;
            if (hold != paused && (hold || toSpool < QUEUE_LOW)) {
                setPaused(hold);
            }
            drain();
        }

        @Override
        public void dropped(int records) {
            for (int i = 0; i < records; i++) {
                tunnel.datagramDropped();
                stats.pushOverflow();
            }
            spoolNews.log(org.apache.logging.log4j.Level.WARN, "{}: the durable spool is full; {} record(s) dropped"
                    + " (overflow=drop)", tunnel, records);
        }
    }

    /** Queued records must move once a link is back, even if no new record arrives to trigger it. */
    private void retryLater() {
        if (pump != null && appended > acked && !retryScheduled) {
            retryScheduled = true;
            loop.schedule(() -> {
                retryScheduled = false;
                drain();
            }, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
            return;
        }
        if (!queue.isEmpty() && !retryScheduled) {
            retryScheduled = true;
            loop.schedule(() -> {
                retryScheduled = false;
                drain();
            }, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    private void setPaused(boolean pause) {
        paused = pause;
        for (Channel p : producers) {
            p.config().setAutoRead(!pause);
        }
    }

    /** One producer connection: whole records in, counted discards of over-long ones. */
    private final class Producer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf record) {
                offer(record);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (pump != null) {
                toSpool += pump.flush();
                if (toSpool > QUEUE_HIGH && !paused) {
                    setPaused(true);
                }
                return;
            }
            Upstream up = channel;
            if (up != null && !up.link.isClosed()) {
                up.link.flush();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException) {
                tunnel.datagramDropped();
                log.warn("{}: a record from {} is longer than record={} bytes; discarded", tunnel,
                        ctx.channel().remoteAddress(), tunnel.spec().recordMax());
                return;
            }
            log.debug("{}: producer {} failed: {}", tunnel, ctx.channel().remoteAddress(), cause.getMessage());
            ctx.close();
        }
    }

    /** The one channel of this tunnel on one link. */
    private final class Upstream implements LinkChannel {
        final Link link;
        final int id;
        final SendWindow credit = new SendWindow();
        boolean open;
        final long openSentAt;
        /** Durable only: the highest sequence sent on this channel; it starts at what was acknowledged. */
        long sent;
        final long startedAfter;

        Upstream(Link link) {
            this.sent = acked;
            this.startedAfter = acked;
            this.link = link;
            this.id = link.allocateChannelId();
            link.register(id, this);
            tunnel.acquired();
            openSentAt = link.stats().openSent();
            // a push egress sends nothing back, so OPEN's window field tells it the spool size instead
            link.writeAndFlush(new Frame.Open(id, tunnel.id(), tunnel.spec().spoolMax(), false, true, false, target, null,
                    tunnel.spec().relp().out()));
        }

        @Override
        public void onOpenOk(int window) {
            link.stats().openAnswered(mode, true, openSentAt);
            open = true;
            credit.open(window);
            link.stats().channelOpened();
            drain();
        }

        @Override
        public void onOpenFail(ErrorCode code, String message) {
            link.stats().openAnswered(mode, false, openSentAt);
            tunnel.channelFailed(message);
            log.warn("{} refused by the peer: {}; records stay queued", tunnel, message);
            refusedOn = link;
            gone();
        }

        @Override
        public boolean onPushAck(long seq) {
            if (pump == null) {
                return false;
            }
            if (seq > sent) {
                link.protocolViolation("PUSH_ACK of record " + seq + " on push channel " + id + ", which sent only up to "
                        + sent);
                return true;
            }
            if (seq > acked) {
                acked = seq;
                pump.ack(seq);
            }
            return true;
        }

        @Override
        public void onWindow(int increment) {
            if (!credit.grant(increment)) {
                link.protocolViolation("push channel " + id + " credit overflow");
                return;
            }
            drain();
        }

        @Override
        public void onClose(ErrorCode code) {
            gone();
        }

        @Override
        public void onLinkClosed() {
            gone();
        }

        private void gone() {
            link.unregister(id);
            if (open) {
                link.stats().channelClosed();
            }
            tunnel.release();
            open = false;
            if (channel == this) {
                channel = null;
                if (pump != null) {
                    retryLater(); // what this channel sent unacknowledged goes again on the next link
                }
            }
        }

        @Override
        public void onLinkWritable() {
            drain();
        }

        @Override
        public void onData(ByteBuf payload) {
            link.reject(payload, "DATA towards the ingress of push channel " + id);
        }

        @Override
        public void onDatagram(ByteBuf payload) {
            link.reject(payload, "DATAGRAM on TCP push channel " + id);
        }
    }
}
