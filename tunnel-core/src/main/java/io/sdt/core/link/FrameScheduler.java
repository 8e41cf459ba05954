package io.sdt.core.link;

import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.sdt.codec.Frame;

import java.util.ArrayDeque;
import java.util.function.IntConsumer;

/**
 * The order in which a link's frames leave it: control frames first, then the channels' frames by
 * deficit round robin. Confined to the link's event loop.
 *
 * <p>Two kinds of frame:
 * <ul>
 * <li><b>Channel frames</b> carry a channel's bytes or end them: OPEN, DATA, DATAGRAM, SOLE_DATAGRAM,
 *     PUSH_SEQ, VPN_CONFIG, EOF and CLOSE. They wait in their channel's queue, in the order written, so a channel's
 *     own sequence never changes (OPEN before its DATA, DATA before its EOF, PUSH_SEQ just before its
 *     record, CLOSE last). OPEN is a channel frame because its id may be one this node freed with a
 *     CLOSE that is still queued.</li>
 * <li><b>Control frames</b> are everything else: WINDOW, PUSH_ACK, OPEN_OK, OPEN_FAIL, PING, PONG,
 *     BIND and its answers. None of them has an order to keep against queued bytes (credit and acks
 *     are about the other direction; OPEN_OK answers an id the peer could only allocate once this
 *     node's CLOSE for it had arrived), and each is small, so they go before any queued channel frame:
 *     a WINDOW stuck behind megabytes of bulk would stall the other direction.</li>
 * </ul>
 *
 * <p>Channels that have frames queued take turns: at its turn a channel gets {@link #QUANTUM} bytes
 * of credit (its deficit) and sends frames while the next one fits; credit left over is kept for its
 * next turn while it stays busy, and dropped when its queue empties (Shreedhar and Varghese's DRR,
 * the scheme Netty's HTTP/2 {@code WeightedFairQueueByteDistributor} builds on). A channel that
 * becomes busy starts with one quantum, so an interactive frame waits for at most one turn of each
 * busy channel: a quantum plus one frame.
 *
 * <p>Frames handed out by {@link #poll} belong to the caller; {@link #clear} and {@link #discard}
 * release what they drop.
 */
final class FrameScheduler {

    /** Bytes of credit a busy channel gets per turn: one TLS record. */
    static final int QUANTUM = 16 * 1024;
    /** The queue of the link's sole datagram channel, whose frames carry no id. */
    static final int SOLE = -1;
    /** What {@link #channelOf} says of a control frame. */
    static final int CONTROL = Integer.MIN_VALUE;
    /** What a frame without a payload counts for: about its encoded size. */
    static final int HEADER = 16;

    /** One channel's queued frames and its credit. */
    private static final class ChannelQueue {
        final int id;
        final ArrayDeque<Frame> frames = new ArrayDeque<>(4);
        long bytes;
        int deficit;
        /** Its channel was told to stop queueing; it is woken when the queue has drained to half. */
        boolean full;

        ChannelQueue(int id) {
            this.id = id;
        }
    }

    private final ArrayDeque<Frame> control = new ArrayDeque<>();
    private final IntObjectMap<ChannelQueue> queues = new IntObjectHashMap<>();
    /** Channels with frames queued, in the order of their turns; the first is the one whose turn it is. */
    private final ArrayDeque<ChannelQueue> turns = new ArrayDeque<>();
    private long queuedBytes;

    /** The id of the channel queue {@code frame} waits in, or {@link #CONTROL}. */
    static int channelOf(Frame frame) {
        return switch (frame) {
            case Frame.Data d -> d.channel();
            case Frame.Datagram d -> d.channel();
            case Frame.SoleDatagram d -> SOLE;
            case Frame.PushSeq p -> p.channel();
            case Frame.Eof e -> e.channel();
            case Frame.Close c -> c.channel();
            case Frame.Open o -> o.channel();
            case Frame.VpnConfig v -> v.channel();
            default -> CONTROL;
        };
    }

    /** What {@code frame} counts for against a quantum and the queue bounds: its payload plus a header. */
    static int cost(Frame frame) {
        return switch (frame) {
            case Frame.Data d -> d.content().readableBytes() + HEADER;
            case Frame.Datagram d -> d.content().readableBytes() + HEADER;
            case Frame.SoleDatagram d -> d.content().readableBytes() + HEADER;
            default -> HEADER;
        };
    }

    void add(Frame frame) {
        int id = channelOf(frame);
        if (id == CONTROL) {
            control.add(frame);
            return;
        }
        ChannelQueue q = queues.get(id);
        if (q == null) {
            q = new ChannelQueue(id);
            queues.put(id, q);
        }
        if (q.frames.isEmpty()) {
            q.deficit = QUANTUM;
            turns.addLast(q);
        }
        int cost = cost(frame);
        q.frames.addLast(frame);
        q.bytes += cost;
        queuedBytes += cost;
    }

    /** The next control frame, or null; control frames go out whether or not the link is writable. */
    Frame pollControl() {
        return control.poll();
    }

    /** The next frame: a control frame if one waits, else the next channel frame in DRR order; null if none. */
    Frame poll() {
        Frame f = control.poll();
        if (f != null) {
            return f;
        }
        while (!turns.isEmpty()) {
            ChannelQueue q = turns.peekFirst();
            Frame head = q.frames.peekFirst();
            int cost = cost(head);
            if (q.deficit >= cost) {
                q.frames.pollFirst();
                q.deficit -= cost;
                q.bytes -= cost;
                queuedBytes -= cost;
                if (q.frames.isEmpty()) {
                    turns.pollFirst();
                    q.deficit = 0;
                    if (!q.full) {
                        queues.remove(q.id);
                    }
                }
                return head;
            }
            // its turn is over: the credit for its next turn, and the next channel's turn
            q.deficit += QUANTUM;
            turns.addLast(turns.pollFirst());
        }
        return null;
    }

    /** Bytes queued in channel queues, over all channels. */
    long queuedBytes() {
        return queuedBytes;
    }

    /** Bytes queued for channel {@code id} ({@link #SOLE} for the sole datagram channel). */
    long queued(int id) {
        ChannelQueue q = queues.get(id);
        return q == null ? 0 : q.bytes;
    }

    /** Channels with frames queued. */
    int busyChannels() {
        return turns.size();
    }

    /**
     * Marks channel {@code id} as told to stop queueing; {@link #drainedBelow} reports it once its queue
     * is at most {@code low} bytes.
     */
    void markFull(int id) {
        ChannelQueue q = queues.get(id);
        if (q != null) {
            q.full = true;
        }
    }

    /**
     * Channels marked full whose queues now hold at most {@code low} bytes, each reported once; their
     * marks are cleared. {@code sink} gets the ids.
     */
    void drainedBelow(long low, IntConsumer sink) {
        if (queues.isEmpty()) {
            return;
        }
        int[] woken = null;
        int n = 0;
        for (ChannelQueue q : queues.values()) {
            if (q.full && q.bytes <= low) {
                if (woken == null) {
                    woken = new int[queues.size()];
                }
                woken[n++] = q.id;
            }
        }
        for (int i = 0; i < n; i++) {
            ChannelQueue q = queues.get(woken[i]);
            q.full = false;
            if (q.frames.isEmpty()) {
                queues.remove(q.id);
            }
            sink.accept(woken[i]);
        }
    }

    /** Drops and releases what channel {@code id} has queued: its peer has closed it, nothing more may go. */
    void discard(int id) {
        ChannelQueue q = queues.remove(id);
        if (q == null) {
            return;
        }
        if (!q.frames.isEmpty()) {
            turns.remove(q);
            queuedBytes -= q.bytes;
            releaseAll(q.frames);
        }
    }

    /** Drops and releases everything: the link is gone. */
    void clear() {
        releaseAll(control);
        for (ChannelQueue q : queues.values()) {
            releaseAll(q.frames);
        }
        queues.clear();
        turns.clear();
        queuedBytes = 0;
    }

    private static void releaseAll(ArrayDeque<Frame> frames) {
        Frame f;
        while ((f = frames.poll()) != null) {
            ReferenceCountUtil.release(f);
        }
    }
}
