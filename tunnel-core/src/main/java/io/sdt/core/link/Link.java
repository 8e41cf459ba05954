package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;
import io.sdt.codec.Varint;
import io.sdt.core.metrics.NodeStats;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.function.LongConsumer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An authenticated link: the channel table, frame dispatch and the write side. Confined to the
 * link channel's event loop: every method that touches the table or writes asserts it runs there
 * (run tests with {@code -ea}); {@link #eventLoop()}, {@link #isActive()}, {@link #isClosed()},
 * the getters and {@link #close} may be called from anywhere. Frames written wait in the link's
 * {@link FrameScheduler} until a flush moves them to the socket in their fair order. Channels opened
 * by the client have odd ids, those opened by the server even ones.
 */
public final class Link {

    private static final Logger log = LogManager.getLogger(Link.class);
    private static final AtomicLong IDS = new AtomicLong();
    private static final String LOOP_ONLY = "a link's table and writes belong to its event loop";

    private final Channel channel;
    private final boolean client;
    private final LinkSettings settings;
    private final NodeStats stats;
    private final LinkHooks hooks;
    private final String name;
    private final IntObjectMap<LinkChannel> channels = new IntObjectHashMap<>();
    private final List<LinkChannel> toFlush = new ArrayList<>();
    private final FrameScheduler scheduler = new FrameScheduler();
    /** A channel was told the link's queue is full; all are woken when it has drained. */
    private boolean queueFull;
    /** In {@link #flush}: a channel woken there that flushes again adds to the same pass. */
    private boolean draining;
    private int nextId;
    private int soleChannel = -1;
    /** Written on the loop; read anywhere (a listener on another loop asks before it hands a socket over). */
    private volatile boolean closed;
    /** The peer's address (as a PROXY protocol header gave it, if one did). */
    private final String peer;
    /** When the link came up (epoch milliseconds); 0 before. */
    private volatile long upSince;
    /** The round trip of the last PING this side sent, in nanoseconds; -1 before the first PONG. */
    private volatile long rttNanos = -1;
    /** Both ends speak {@value TlsSetup#ALPN_EARLY}: an OPEN may carry early data. */
    private final boolean earlyData;

    Link(Channel channel, boolean client, LinkSettings settings, NodeStats stats, LinkHooks hooks) {
        this(channel, client, settings, stats, hooks, false);
    }

    Link(Channel channel, boolean client, LinkSettings settings, NodeStats stats, LinkHooks hooks, boolean earlyData) {
        this.channel = channel;
        this.earlyData = earlyData;
        this.client = client;
        this.settings = settings;
        this.stats = stats;
        this.hooks = hooks;
        this.nextId = client ? 1 : 2;
        SocketAddress peer = ProxyProtocol.peer(channel);
        this.peer = peer instanceof java.net.InetSocketAddress a ? io.sdt.codec.HostPort.of(a).toString()
                : String.valueOf(peer);
        this.name = "link-" + IDS.incrementAndGet() + " " + peer
                + (peer == channel.remoteAddress() ? "" : " via " + channel.remoteAddress());
    }

    /** The peer's address as this node sees it (the one a PROXY protocol header named, if one did). */
    public String peer() {
        return peer;
    }

    /** When the link came up (epoch milliseconds), or 0 if it has not. */
    public long upSince() {
        return upSince;
    }

    /** The round trip of the last heartbeat PING this side sent, in nanoseconds, or -1 before the first PONG. */
    public long rttNanos() {
        return rttNanos;
    }

    public Channel channel() {
        return channel;
    }

    /**
     * Whether this link's streams may send early data: the customer's first bytes (up to
     * {@link io.sdt.codec.Frame#EARLY_DATA_MAX}) right behind their OPEN instead of a round trip later, after
     * OPEN_OK. Both ends chose ALPN {@value TlsSetup#ALPN_EARLY}; a peer that knows only
     * {@value TlsSetup#ALPN} gets no early OPEN.
     */
    public boolean earlyData() {
        return earlyData;
    }

    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    public boolean isClient() {
        return client;
    }

    public boolean isActive() {
        return channel.isActive();
    }

    public LinkSettings settings() {
        return settings;
    }

    public NodeStats stats() {
        return stats;
    }

    @Override
    public String toString() {
        return name;
    }

    /** A fresh channel id of this side's parity; ids in use are skipped after the 2^28 wrap. */
    public int allocateChannelId() {
        assert inLoop() : LOOP_ONLY;
        for (int i = 0; i < 1 << 20; i++) {
            int id = nextId;
            nextId += 2;
            if (nextId > Varint.MAX_VALUE) {
                nextId = client ? 1 : 2;
            }
            if (!channels.containsKey(id) && scheduler.queued(id) == 0) { // a queued CLOSE still names it
                return id;
            }
        }
        throw new IllegalStateException("no free channel id");
    }

    /** True if {@code id} has the parity of ids the peer allocates. */
    public boolean isPeerId(int id) {
        return client == ((id & 1) == 0);
    }

    public void register(int id, LinkChannel ch) {
        assert inLoop() : LOOP_ONLY;
        channels.put(id, ch);
    }

    public void unregister(int id) {
        assert inLoop() : LOOP_ONLY;
        channels.remove(id);
    }

    /**
     * Marks {@code id} as the link's sole channel (its OPEN carried the sole flag): SOLE_DATAGRAM
     * frames are its datagrams. A second sole channel at the same time is a protocol violation.
     */
    public boolean markSole(int id) {
        assert inLoop() : LOOP_ONLY;
        if (soleChannel >= 0 && soleChannel != id && channels.containsKey(soleChannel)) {
            protocolViolation("a second sole channel " + id + " while " + soleChannel + " is open");
            return false;
        }
        soleChannel = id;
        return true;
    }

    public boolean isRegistered(int id) {
        return channels.containsKey(id);
    }

    public int channelCount() {
        return channels.size();
    }

    /**
     * A receive window for a new channel: the settings' initial window, sizing itself up to the settings'
     * maximum within the node's budget ({@link ReceiveWindow}); the channel must {@link ReceiveWindow#close}
     * it when it ends. {@code sizes} (may be null) is told every change of the window's size: a tunnel's
     * gauge of the windows of its channels.
     */
    public ReceiveWindow newReceiveWindow(LongConsumer sizes) {
        return new ReceiveWindow(settings.window(), settings.autotune()
                ? new ReceiveWindow.Tuning(settings.windowMax(), settings.bufferBudget(), stats, System::nanoTime)
                : null, sizes);
    }

    /**
     * True while the link's scheduler holds less than {@link LinkSockets#QUEUE} bytes: a channel may
     * queue more. Once it has said no, every channel is woken ({@link LinkChannel#onLinkWritable}) when
     * the queue is down to a quarter.
     */
    public boolean isWritable() {
        assert inLoop() : LOOP_ONLY;
        if (scheduler.queuedBytes() < LinkSockets.QUEUE) {
            return true;
        }
        queueFull = true;
        return false;
    }

    /**
     * True if channel {@code id} may queue more: the link is writable and the channel's own queue holds
     * less than {@link LinkSockets#CHANNEL_QUEUE} bytes. If not, the channel is woken
     * ({@link LinkChannel#onLinkWritable}) once its queue has drained to half that.
     */
    public boolean canQueue(int id) {
        if (!isWritable()) {
            return false;
        }
        if (scheduler.queued(id) < LinkSockets.CHANNEL_QUEUE) {
            return true;
        }
        scheduler.markFull(id);
        return false;
    }

    /**
     * True if a datagram of channel {@code id} ({@code sole}: the sole datagram channel) would wait behind
     * at most {@link LinkSockets#DATAGRAM_BACKLOG} bytes of its own channel in a writable link; sends what
     * the link can take before saying no. UDP never waits: the caller drops and counts otherwise.
     */
    public boolean canTakeDatagram(int id, boolean sole) {
        assert inLoop() : LOOP_ONLY;
        int key = sole ? FrameScheduler.SOLE : id;
        if (scheduler.queued(key) <= LinkSockets.DATAGRAM_BACKLOG && scheduler.queuedBytes() < LinkSockets.QUEUE) {
            return true;
        }
        flush();
        return scheduler.queued(key) <= LinkSockets.DATAGRAM_BACKLOG && scheduler.queuedBytes() < LinkSockets.QUEUE;
    }

    /** Queues {@code frame} in the link's scheduler ({@link FrameScheduler}); it is sent at the next flush. */
    public void write(Frame frame) {
        assert inLoop() : LOOP_ONLY;
        if (closed) {
            ReferenceCountUtil.release(frame);
            return;
        }
        long before = scheduler.queuedBytes();
        scheduler.add(frame);
        stats.linkQueued(scheduler.queuedBytes() - before);
    }

    public void writeAndFlush(Frame frame) {
        write(frame);
        flush();
    }

    /**
     * Moves frames from the scheduler to the link's socket: every control frame, then channel frames in
     * their fair order while the socket's buffer is below its high water mark; then flushes the socket
     * and wakes channels whose queues have drained.
     */
    public void flush() {
        assert inLoop() : LOOP_ONLY;
        if (draining) {
            return;
        }
        draining = true;
        try {
            long before = scheduler.queuedBytes();
            Frame f;
            while ((f = scheduler.pollControl()) != null) {
                channel.write(f, channel.voidPromise());
            }
            while (channel.isWritable() && (f = scheduler.poll()) != null) {
                channel.write(f, channel.voidPromise());
            }
            channel.flush();
            stats.linkQueued(scheduler.queuedBytes() - before);
        } finally {
            draining = false;
        }
        wake();
    }

    /** Wakes the channels whose own queues have drained to half, and all of them if the link's queue has. */
    private void wake() {
        if (closed) {
            return;
        }
        scheduler.drainedBelow(LinkSockets.CHANNEL_QUEUE / 2, id -> {
            LinkChannel ch = channels.get(id);
            if (ch != null) {
                ch.onLinkWritable();
            }
        });
        if (queueFull && scheduler.queuedBytes() <= LinkSockets.QUEUE / 4) {
            queueFull = false;
            for (LinkChannel ch : channels.values().toArray(new LinkChannel[0])) {
                ch.onLinkWritable();
            }
        }
    }

    /** Asks for {@link LinkChannel#flushLocal()} at the end of the current read burst. */
    public void requestLocalFlush(LinkChannel ch) {
        assert inLoop() : LOOP_ONLY;
        toFlush.add(ch);
    }

    void flushLocals() {
        assert inLoop() : LOOP_ONLY;
        if (toFlush.isEmpty()) {
            return;
        }
        LinkChannel[] pending = toFlush.toArray(new LinkChannel[0]);
        toFlush.clear();
        LinkChannel last = null;
        for (LinkChannel ch : pending) {
            if (ch != last) {
                ch.flushLocal();
                last = ch;
            }
        }
    }

    /** A payload frame this channel can never take: release it and treat it as a protocol violation. */
    public void reject(ByteBuf payload, String what) {
        payload.release();
        protocolViolation(what);
    }

    /** Releases every buffer in {@code queue} and empties it. */
    public static void releaseAll(Queue<ByteBuf> queue) {
        ByteBuf b;
        while ((b = queue.poll()) != null) {
            b.release();
        }
    }

    /** The peer broke the protocol: log once, send GOAWAY and close the link. */
    public void protocolViolation(String message) {
        if (closed) {
            return;
        }
        stats.protocolError();
        log.warn("{}: protocol violation: {}; closing the link", name, message);
        close(ErrorCode.PROTOCOL, message);
    }

    /** Sends GOAWAY and closes the link after it is written. Safe from any thread. */
    public void close(ErrorCode code, String message) {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(() -> close(code, message));
            return;
        }
        if (channel.isActive()) {
            channel.writeAndFlush(new Frame.GoAway(code, message)).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }

    void onFrame(Frame frame) {
        assert inLoop() : LOOP_ONLY;
        switch (frame) {
            case Frame.Data d -> {
                LinkChannel ch = channels.get(d.channel());
                if (ch == null) {
                    d.release();
                } else {
                    stats.receivedFromLink(d.content().readableBytes());
                    ch.onData(d.content());
                }
            }
            case Frame.Datagram d -> {
                LinkChannel ch = channels.get(d.channel());
                if (ch == null) {
                    d.release();
                } else {
                    stats.receivedFromLink(d.content().readableBytes());
                    ch.onDatagram(d.content());
                }
            }
            case Frame.SoleDatagram d -> {
                LinkChannel ch = soleChannel >= 0 ? channels.get(soleChannel) : null;
                if (ch == null) {
                    d.release();
                } else {
                    stats.receivedFromLink(d.content().readableBytes());
                    ch.onDatagram(d.content());
                }
            }
            case Frame.Window w -> {
                LinkChannel ch = channels.get(w.channel());
                if (ch != null) {
                    ch.onWindow(w.increment());
                }
            }
            case Frame.Eof e -> {
                LinkChannel ch = channels.get(e.channel());
                if (ch != null) {
                    ch.onEof();
                }
            }
            case Frame.Close c -> {
                long before = scheduler.queuedBytes();
                scheduler.discard(c.channel()); // what this node still queued for it would go nowhere
                stats.linkQueued(scheduler.queuedBytes() - before);
                LinkChannel ch = channels.get(c.channel());
                if (ch != null) {
                    ch.onClose(c.code());
                }
            }
            case Frame.PushSeq p -> {
                LinkChannel ch = channels.get(p.channel());
                if (ch != null && !ch.onPushSeq(p.spoolId(), p.seq())) {
                    protocolViolation("PUSH_SEQ on channel " + p.channel() + ", which is not a durable push egress");
                }
            }
            case Frame.PushAck a -> {
                LinkChannel ch = channels.get(a.channel());
                if (ch != null && !ch.onPushAck(a.seq())) {
                    protocolViolation("PUSH_ACK on channel " + a.channel() + ", which is not a durable push ingress");
                }
            }
            case Frame.VpnConfig v -> {
                LinkChannel ch = channels.get(v.channel());
                if (ch != null && !ch.onVpnConfig(v)) {
                    protocolViolation("VPN_CONFIG on channel " + v.channel() + ", which is not a VPN channel");
                }
            }
            case Frame.Open o -> {
                if (!isPeerId(o.channel()) || channels.containsKey(o.channel())) {
                    protocolViolation("OPEN with bad or duplicate channel id " + o.channel());
                } else if (o.early() && !earlyData) {
                    protocolViolation("early OPEN on a link whose ends did not agree on " + TlsSetup.ALPN_EARLY);
                } else {
                    hooks.onOpen(this, o);
                }
            }
            case Frame.OpenOk o -> {
                LinkChannel ch = channels.get(o.channel());
                if (ch != null) {
                    ch.onOpenOk(o.window());
                }
            }
            case Frame.OpenFail o -> {
                LinkChannel ch = channels.get(o.channel());
                if (ch != null) {
                    ch.onOpenFail(o.code(), o.message());
                }
            }
            case Frame.Ping p -> writeAndFlush(new Frame.Pong(p.payload()));
            case Frame.Pong p -> {
                // reading it has reset the idle timer; the PING carried our clock when it left (Heartbeat)
                long rtt = System.nanoTime() - p.payload();
                if (rtt >= 0 && rtt < 600_000_000_000L) {
                    rttNanos = rtt;
                }
            }
            case Frame.GoAway g -> {
                log.info("{}: peer is closing the link ({}: {})", name, g.code(), g.message());
                channel.close();
            }
            case Frame.Bind b -> hooks.onBind(this, b);
            case Frame.Unbind u -> hooks.onUnbind(this, u);
            case Frame.BindOk b -> hooks.onBindOk(this, b);
            case Frame.BindFail b -> hooks.onBindFail(this, b);
            case Frame.Hello h -> protocolViolation("HELLO after authentication");
            case Frame.Challenge c -> protocolViolation("CHALLENGE after authentication");
            case Frame.Auth a -> protocolViolation("AUTH after authentication");
            case Frame.AuthOk a -> protocolViolation("AUTH_OK after authentication");
        }
    }

    /** The link's socket buffer went below its low water mark: more frames may go. */
    void onWritable() {
        assert inLoop() : LOOP_ONLY;
        if (!closed) {
            flush();
        }
    }

    void onUp() {
        assert inLoop() : LOOP_ONLY;
        upSince = System.currentTimeMillis();
        Heartbeat.start(this);
        stats.linkUp();
        hooks.onUp(this);
    }

    void onClosed() {
        assert inLoop() : LOOP_ONLY;
        if (closed) {
            return;
        }
        closed = true;
        toFlush.clear();
        stats.linkQueued(-scheduler.queuedBytes());
        scheduler.clear();
        LinkChannel[] all = channels.values().toArray(new LinkChannel[0]);
        channels.clear();
        for (LinkChannel ch : all) {
            ch.onLinkClosed();
        }
        stats.linkDown();
        hooks.onClosed(this);
    }

    public boolean isClosed() {
        return closed;
    }

    private boolean inLoop() {
        return channel.eventLoop().inEventLoop();
    }
}
