package io.sdt.core.metrics;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * The counters of one node, shared by its links. Thread-safe; updated on event loops, read by
 * anyone. Gauges ({@code *Open}, {@code *Pending}, {@code pushSpool*}) go up and down; everything else
 * only counts up. Channel-open latencies go into one {@link LatencyHistogram} per {@link ModeTag} and answer.
 */
public final class NodeStats {

    private final LongSupplier nanoTime;
    /** Indexed by {@link #latencyIndex}: per mode, OPEN_OK then OPEN_FAIL. */
    private final LatencyHistogram[] openLatency = new LatencyHistogram[ModeTag.values().length * 2];
    private final AtomicLong pushSpoolBytes = new AtomicLong();
    private final AtomicLong pushSpoolRecords = new AtomicLong();

    private final LongAdder linksEstablished = new LongAdder();
    private final AtomicLong linksUp = new AtomicLong();
    private final LongAdder authFailures = new LongAdder();
    private final LongAdder handshakeFailures = new LongAdder();
    private final LongAdder handshakesDropped = new LongAdder();
    private final LongAdder linkDials = new LongAdder();
    private final LongAdder protocolErrors = new LongAdder();
    private final LongAdder channelsOpened = new LongAdder();
    private final AtomicLong channelsOpen = new AtomicLong();
    private final LongAdder opensDenied = new LongAdder();
    private final LongAdder opensFailed = new LongAdder();
    private final LongAdder bytesToLink = new LongAdder();
    private final LongAdder bytesFromLink = new LongAdder();
    private final LongAdder datagramsToLink = new LongAdder();
    private final LongAdder datagramsFromLink = new LongAdder();
    private final LongAdder datagramsDropped = new LongAdder();
    private final LongAdder soleDatagrams = new LongAdder();
    private final LongAdder pushOverflows = new LongAdder();
    private final LongAdder gsoSends = new LongAdder();
    private final LongAdder gsoSegments = new LongAdder();
    private final AtomicLong bufferedBytes = new AtomicLong();
    private final AtomicLong bufferedBytesMax = new AtomicLong();

    public NodeStats() {
        this(System::nanoTime);
    }

    /** @param nanoTime the clock of channel-open latencies ({@link System#nanoTime()} but in tests) */
    public NodeStats(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        for (int i = 0; i < openLatency.length; i++) {
            openLatency[i] = new LatencyHistogram();
        }
    }

    public void linkUp() {
        linksEstablished.increment();
        linksUp.incrementAndGet();
    }

    public void linkDown() {
        linksUp.decrementAndGet();
    }

    public void authFailure() {
        authFailures.increment();
    }

    public void handshakeFailure() {
        handshakeFailures.increment();
    }

    /** A server refused or dropped a connection waiting to authenticate, to keep its waiting room fair. */
    public void handshakeDropped() {
        handshakesDropped.increment();
    }

    /** A client started dialing its server (the first dial and every retry). */
    public void linkDial() {
        linkDials.increment();
    }

    public void protocolError() {
        protocolErrors.increment();
    }

    private final AtomicLong windowBytes = new AtomicLong();
    private final AtomicLong windowBytesMax = new AtomicLong();
    private final LongAdder windowGrowths = new LongAdder();
    private final LongAdder windowStalls = new LongAdder();
    private final AtomicLong linkQueuedBytes = new AtomicLong();
    private final AtomicLong linkQueuedBytesMax = new AtomicLong();

    /**
     * Adds {@code bytes} to the receive windows this node has granted, if the sum stays within
     * {@code budget}; a channel's initial window is always granted (pass {@link Long#MAX_VALUE}).
     */
    public boolean reserveWindow(long bytes, long budget) {
        while (true) {
            long now = windowBytes.get();
            if (now + bytes > budget && bytes > 0) {
                return false;
            }
            if (windowBytes.compareAndSet(now, now + bytes)) {
                windowBytesMax.accumulateAndGet(now + bytes, Math::max);
                return true;
            }
        }
    }

    public void releaseWindow(long bytes) {
        windowBytes.addAndGet(-bytes);
    }

    public void windowGrew() {
        windowGrowths.increment();
    }

    /** The sum of the receive windows of this node's open channels. */
    public long windowBytes() {
        return windowBytes.get();
    }

    /** The most {@link #windowBytes()} has been since the node started. */
    public long windowBytesMax() {
        return windowBytesMax.get();
    }

    public long windowGrowths() {
        return windowGrowths.sum();
    }

    public void channelOpened() {
        channelsOpened.increment();
        channelsOpen.incrementAndGet();
    }

    public void channelClosed() {
        channelsOpen.decrementAndGet();
    }

    public void openDenied() {
        opensDenied.increment();
    }

    public void openFailed() {
        opensFailed.increment();
    }

    /** An ingress sends OPEN now; hand the result to {@link #openAnswered} when the peer answers. */
    public long openSent() {
        return nanoTime.getAsLong();
    }

    /**
     * The peer answered an OPEN of a {@code mode} tunnel: OPEN_OK if {@code ok}, else OPEN_FAIL.
     *
     * @param sentAt what {@link #openSent()} returned when the OPEN went out
     */
    public void openAnswered(ModeTag mode, boolean ok, long sentAt) {
        openLatency(mode, ok).record(nanoTime.getAsLong() - sentAt);
    }

    /** Times from OPEN to OPEN_OK ({@code ok}) or to OPEN_FAIL of the channels this node opened. */
    public LatencyHistogram openLatency(ModeTag mode, boolean ok) {
        return openLatency[latencyIndex(mode, ok)];
    }

    private static int latencyIndex(ModeTag mode, boolean ok) {
        return mode.ordinal() * 2 + (ok ? 0 : 1);
    }

    public void sentToLink(int bytes) {
        bytesToLink.add(bytes);
    }

    public void receivedFromLink(int bytes) {
        bytesFromLink.add(bytes);
    }

    /**
     * Bytes this node holds on behalf of channels: received from the link and not yet written to a
     * local socket, or read from a local socket and not yet sent for lack of credit. Flow control
     * keeps this at most one window per channel plus one socket read.
     */
    public void buffered(long delta) {
        long now = bufferedBytes.addAndGet(delta);
        if (delta > 0) {
            bufferedBytesMax.accumulateAndGet(now, Math::max);
        }
    }

    /**
     * Bytes waiting in the links' schedulers ({@code FrameScheduler}), summed over this node's links: the
     * queue where channels' frames wait for their turn. Bounded per channel and per link.
     */
    public void linkQueued(long delta) {
        if (delta != 0) {
            long now = linkQueuedBytes.addAndGet(delta);
            if (delta > 0) {
                linkQueuedBytesMax.accumulateAndGet(now, Math::max);
            }
        }
    }

    public long linkQueuedBytes() {
        return linkQueuedBytes.get();
    }

    /** The most {@link #linkQueuedBytes()} has been since the node started. */
    public long linkQueuedBytesMax() {
        return linkQueuedBytesMax.get();
    }

    /** A channel had data to send and no credit left: its sender is window-limited. */
    public void windowStall() {
        windowStalls.increment();
    }

    public long windowStalls() {
        return windowStalls.sum();
    }

    public void datagramToLink() {
        datagramsToLink.increment();
    }

    public void datagramFromLink() {
        datagramsFromLink.increment();
    }

    /** A datagram this node had to drop (UDP never waits for the link or a socket). */
    public void datagramDropped() {
        datagramsDropped.increment();
    }

    /** A push record dropped because the egress spool was full. */
    public void pushOverflow() {
        pushOverflows.increment();
    }

    public long pushOverflows() {
        return pushOverflows.sum();
    }

    /** Records and bytes entered ({@code > 0}) or left ({@code < 0}) a TCP push egress spool. */
    public void pushSpooled(long bytes, long records) {
        pushSpoolBytes.addAndGet(bytes);
        pushSpoolRecords.addAndGet(records);
    }

    /** Bytes held now in TCP push egress spools: not yet written to the target, or written and not confirmed. */
    public long pushSpoolBytes() {
        return pushSpoolBytes.get();
    }

    /** Records held now in TCP push egress spools; see {@link #pushSpoolBytes()}. */
    public long pushSpoolRecords() {
        return pushSpoolRecords.get();
    }

    /** One UDP GSO send of {@code segments} datagrams by an egress socket. */
    public void gsoSend(int segments) {
        gsoSends.increment();
        gsoSegments.add(segments);
    }

    public long gsoSends() {
        return gsoSends.sum();
    }

    /** Datagrams that left in GSO sends; divided by {@link #gsoSends()}, the average batch. */
    public long gsoSegments() {
        return gsoSegments.sum();
    }

    /** A datagram sent as SOLE_DATAGRAM, without channel-id bytes. */
    public void soleDatagram() {
        soleDatagrams.increment();
    }

    public long soleDatagrams() {
        return soleDatagrams.sum();
    }

    public long datagramsToLink() {
        return datagramsToLink.sum();
    }

    public long datagramsFromLink() {
        return datagramsFromLink.sum();
    }

    public long datagramsDropped() {
        return datagramsDropped.sum();
    }

    public long linksEstablished() {
        return linksEstablished.sum();
    }

    public long linksUp() {
        return linksUp.get();
    }

    public long authFailures() {
        return authFailures.sum();
    }

    public long handshakesDropped() {
        return handshakesDropped.sum();
    }

    public long linkDials() {
        return linkDials.sum();
    }

    public long handshakeFailures() {
        return handshakeFailures.sum();
    }

    public long protocolErrors() {
        return protocolErrors.sum();
    }

    public long channelsOpened() {
        return channelsOpened.sum();
    }

    public long channelsOpen() {
        return channelsOpen.get();
    }

    public long opensDenied() {
        return opensDenied.sum();
    }

    public long opensFailed() {
        return opensFailed.sum();
    }

    public long bytesToLink() {
        return bytesToLink.sum();
    }

    public long bytesFromLink() {
        return bytesFromLink.sum();
    }

    public long bufferedBytes() {
        return bufferedBytes.get();
    }

    /** The highest {@link #bufferedBytes()} seen since start or the last {@link #resetBufferedMax()}. */
    public long bufferedBytesMax() {
        return bufferedBytesMax.get();
    }

    public void resetBufferedMax() {
        bufferedBytesMax.set(bufferedBytes.get());
    }
}
