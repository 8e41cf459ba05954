package io.sdt.core.tunnel.push;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.HostPort;
import io.sdt.core.link.Link;
import io.sdt.core.link.LinkChannel;
import io.sdt.core.link.ReceiveWindow;
import io.sdt.core.transport.Outbound;
import io.sdt.core.tunnel.datagram.Datagrams;
import io.sdt.core.tunnel.push.relp.RelpClient;
import io.sdt.core.tunnel.push.relp.RelpDecoder;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The egress of a TCP push channel: one upstream connection to B:b, fed from a bounded spool of
 * whole records (each DATA frame of a push channel is one record). Credit goes back to the ingress
 * as soon as a record is spooled, so a missing target never stalls the link; a record that does not
 * fit in the spool is dropped, counted and logged.
 *
 * <p>Delivery: records are written in order and a record leaves the spool only when its write
 * has completed. A write that fails (the target reset the connection) puts its record and every
 * later one back at the head of the spool, to be sent again after reconnecting. When the target
 * closes gracefully (FIN), nothing new is written; what is in flight completes, our side closes,
 * and the rest goes out on the next connection: nothing lost, nothing twice. Bytes the target's
 * kernel accepted but its process never read before an abrupt reset cannot be known by any TCP
 * sender without application acknowledgements; they are the one loss this design cannot see.
 *
 * <p>A durable ingress ({@code spool-dir=}) numbers its records: PUSH_SEQ gives the sequence of the
 * next DATA, and this egress answers PUSH_ACK with the highest sequence whose write to the target has
 * completed, so the ingress deletes it from its disk spool. Records it has delivered before (resent
 * after a link drop or a restart) are dropped and acknowledged again, by spool identity
 * ({@link Outbound#deliveredPush()}: for the life of the process, or across restarts with
 * {@code push.spool_dir}).
 *
 * <p>With the relp flag ({@code ,relp}) the upstream connection is a RELP session ({@link RelpClient}):
 * each record goes as one syslog message, and it is delivered when the log server answered it, not
 * when the kernel took it. Records the log server never answered (it died, refused one, or closed the
 * session) go back to the head of the spool and are sent again on the next session.
 *
 * <p>Confined to the link's event loop.
 */
public final class PushEgress implements LinkChannel {

    private static final Logger log = LogManager.getLogger(PushEgress.class);

    private final Link link;
    private final int id;
    private final HostPort target;
    private final Outbound outbound;
    private final int spoolMax;
    private final boolean relp;
    /** The RELP session of {@link #upstream}, once it is open; null without relp. */
    private RelpClient session;
    private final ArrayDeque<ByteBuf> spool = new ArrayDeque<>();
    private final ArrayDeque<ByteBuf> inFlight = new ArrayDeque<>();
    /** Durable only: the sequence of each record in {@link #spool} and {@link #inFlight}, in lockstep. */
    private final ArrayDeque<Long> spoolSeqs = new ArrayDeque<>();
    private final ArrayDeque<Long> inFlightSeqs = new ArrayDeque<>();
    /** Durable only: the spool identity (hex), and the sequence of the next DATA. */
    private String spoolKey;
    private long nextSeq;
    private long ackDue;
    private boolean ackScheduled;
    private long spooled;
    private Channel upstream;
    private boolean connecting;
    private boolean draining;
    private boolean closed;
    private int attempts;
    private long overflowed;
    /** What the ingress may send: credit goes back as soon as a record is spooled (or dropped). */
    private final ReceiveWindow window;

    private PushEgress(Link link, int id, HostPort target, Outbound outbound, int spoolMax, boolean relp) {
        this.link = link;
        this.relp = relp;
        this.id = id;
        this.target = target;
        this.outbound = outbound;
        this.spoolMax = spoolMax;
        this.window = link.newReceiveWindow(null);
    }

    /** Accepts a push channel the peer opened; policy has been checked. */
    public static PushEgress open(Link link, Frame.Open open, HostPort target, Outbound outbound, int spoolMax) {
        PushEgress egress = new PushEgress(link, open.channel(), target, outbound, spoolMax, open.relp());
        link.register(egress.id, egress);
        link.stats().channelOpened();
        link.writeAndFlush(new Frame.OpenOk(egress.id, egress.window.size()));
        egress.connect();
        return egress;
    }

    /** Bytes waiting in the spool (not yet written upstream). */
    public long spooledBytes() {
        return spooled;
    }

    private void connect() {
        if (closed || connecting || upstream != null) {
            return;
        }
        connecting = true;
        new Bootstrap().group(link.eventLoop()).channel(outbound.transport().socketChannel())
                .resolver(outbound.resolver())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) link.settings().connectTimeout().toMillis())
                .handler(new io.netty.channel.ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (relp) {
                            ch.pipeline().addLast(new RelpDecoder(RelpClient.MAX_ANSWER), new RelpClient(new Session(ch)));
                        }
                        ch.pipeline().addLast(new UpstreamHandler());
                    }
                })
                .connect(target.toSocketAddress()).addListener((ChannelFuture f) -> {
                    connecting = false;
                    if (closed) {
                        f.channel().close();
                        return;
                    }
                    if (!f.isSuccess()) {
                        retry("cannot reach " + target + ": " + f.cause().getMessage());
                        return;
                    }
                    if (!relp) {
                        attempts = 0; // with relp, once the session is open
                    }
                    draining = false;
                    upstream = f.channel();
                    log.info("{}: push channel {} connected to {}{} ({} bytes spooled)", link, id, target,
                            relp ? " (RELP)" : "", spooled);
                    pump();
                });
    }

    private void retry(String why) {
        long delay = Math.min(2000, 100L << Math.min(attempts++, 5));
        if (attempts == 1 || attempts % 20 == 0) {
            log.warn("{}: push channel {}: {}; retrying in {} ms, {} bytes spooled", link, id, why, delay, spooled);
        }
        link.eventLoop().schedule(this::connect, delay, TimeUnit.MILLISECONDS);
    }

    /** Writes spooled records while the upstream takes them. */
    private void pump() {
        Channel up = upstream;
        if (up == null || draining || closed || (relp && session == null)) {
            return;
        }
        boolean wrote = false;
        while (!spool.isEmpty() && up.isWritable() && (session == null || session.canSend())) {
            ByteBuf r = spool.poll();
            inFlight.add(r);
            if (spoolKey != null) {
                inFlightSeqs.add(spoolSeqs.poll());
            }
            if (session != null) {
                // delivered when the log server answers; a failed write ends the session, which requeues
                session.send(r.retainedDuplicate()).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            } else {
                up.write(r.retainedDuplicate()).addListener(f -> written(up, f.isSuccess()));
            }
            wrote = true;
        }
        if (wrote) {
            up.flush();
        }
    }

    private void written(Channel up, boolean ok) {
        if (ok) {
            ByteBuf r = inFlight.poll();
            if (r != null) {
                int n = r.readableBytes();
                spooled -= n;
                link.stats().pushSpooled(-n, -1);
                r.release();
                if (spoolKey != null) {
                    delivered(inFlightSeqs.poll(), n);
                }
            }
            if (draining && inFlight.isEmpty() && up.isActive()) {
                ((DuplexChannel) up).shutdownOutput().addListener(x -> up.close());
            }
            return;
        }
        requeue();
    }

    /** The connection failed: everything in flight goes back to the head of the spool, in order. */
    private void requeue() {
        ByteBuf r;
        while ((r = inFlight.pollLast()) != null) {
            spool.addFirst(r);
            if (spoolKey != null) {
                spoolSeqs.addFirst(inFlightSeqs.pollLast());
            }
        }
    }

    private void credit(int n) {
        int increment = window.consume(n);
        if (increment > 0) {
            link.writeAndFlush(new Frame.Window(id, increment));
        }
    }

    /** Record {@code seq} reached the target: remember it and acknowledge it, once per batch of writes. */
    private void delivered(long seq, int n) {
        credit(n);
        outbound.deliveredPush().advance(spoolKey, seq);
        acknowledge(seq);
    }

    private void acknowledge(long seq) {
        ackDue = Math.max(ackDue, seq);
        if (!ackScheduled) {
            ackScheduled = true;
            link.eventLoop().execute(() -> { // after the write completions of this flush
                ackScheduled = false;
                if (!closed) {
                    link.writeAndFlush(new Frame.PushAck(id, ackDue));
                }
            });
        }
    }

    @Override
    public boolean onPushSeq(byte[] spoolId, long seq) {
        String key = java.util.HexFormat.of().formatHex(spoolId);
        if (spoolKey != null && !spoolKey.equals(key)) {
            link.protocolViolation("push channel " + id + " switched spools");
            return true;
        }
        spoolKey = key;
        nextSeq = seq;
        return true;
    }

    @Override
    public void onData(ByteBuf record) {
        int n = record.readableBytes();
        if (closed) {
            record.release();
            return;
        }
        if (!window.receive(n)) {
            link.reject(record, "push channel " + id + " exceeded its window of " + window.size() + " bytes");
            return;
        }
        if (spoolKey != null) {
            // durable: the ingress keeps every record on disk until acknowledged, so nothing may be dropped
            // here and credit goes back only once a record is delivered: this spool holds at most a window
            long seq = nextSeq++;
            if (seq <= outbound.deliveredPush().get(spoolKey)) {
                record.release(); // delivered before a link drop: once is enough
                credit(n);
                acknowledge(seq);
                return;
            }
            spoolSeqs.add(seq);
        } else {
            // credit goes back as soon as the record is spooled (or dropped), a quarter window at a time
            credit(n);
            if (spooled + n > spoolMax) {
                record.release();
                if (overflowed++ % 1000 == 0) {
                    log.warn("{}: push channel {}: spool of {} bytes is full while {} is away; {} record(s) dropped",
                            link, id, spoolMax, target, overflowed);
                }
                link.stats().pushOverflow();
                return;
            }
        }
        record = Datagrams.rightSized(record); // a decoded record is a slice of the link's read buffer
        spool.add(record);
        spooled += n;
        link.stats().pushSpooled(n, 1);
        pump();
    }

    /** The RELP session's news, on the link's loop. */
    private final class Session implements RelpClient.Events {
        private final Channel ch;

        Session(Channel ch) {
            this.ch = ch;
        }

        @Override
        public void ready() {
            if (upstream == ch) {
                attempts = 0;
                session = ch.pipeline().get(RelpClient.class);
                pump();
            }
        }

        @Override
        public void delivered() {
            if (upstream == ch) {
                written(ch, true);
                pump();
            }
        }

        @Override
        public void broken(String why) {
            log.warn("{}: push channel {}: RELP session with {} ends: {}; {} unanswered record(s) go again", link, id,
                    target, why, inFlight.size());
        }
    }

    private final class UpstreamHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg); // a push target has nothing to say to us
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            pump();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && relp) {
                ctx.close(); // a RELP server that stops talking answers nothing more: send it all again
            } else if (evt instanceof ChannelInputShutdownEvent) {
                // the target ended its side: finish what is in flight, then close and reconnect
                draining = true;
                if (inFlight.isEmpty()) {
                    ((DuplexChannel) ctx.channel()).shutdownOutput().addListener(x -> ctx.close());
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("{}: push channel {}: upstream failed: {}", link, id, cause.getMessage());
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (upstream == ctx.channel()) {
                upstream = null;
                if (relp) {
                    session = null;
                    requeue(); // what the log server did not answer is not delivered
                }
                if (!closed) {
                    retry("the connection to " + target + " closed");
                }
            }
        }
    }

    @Override
    public void onClose(ErrorCode code) {
        closeAll();
    }

    @Override
    public void onLinkClosed() {
        closeAll();
    }

    private void closeAll() {
        if (closed) {
            return;
        }
        closed = true;
        window.close();
        link.unregister(id);
        link.stats().channelClosed();
        if (spooled > 0) {
            log.warn("{}: push channel {} closed with {} bytes still spooled for {}", link, id, spooled, target);
        }
        link.stats().pushSpooled(-spooled, -(spool.size() + inFlight.size()));
        spooled = 0;
        Link.releaseAll(spool);
        Link.releaseAll(inFlight);
        if (upstream != null) {
            upstream.close();
        }
    }

    @Override
    public void onOpenOk(int window) {
        link.protocolViolation("OPEN_OK for push egress " + id);
    }

    @Override
    public void onOpenFail(ErrorCode code, String message) {
        link.protocolViolation("OPEN_FAIL for push egress " + id);
    }

    @Override
    public void onDatagram(ByteBuf payload) {
        link.reject(payload, "DATAGRAM on TCP push channel " + id);
    }
}
