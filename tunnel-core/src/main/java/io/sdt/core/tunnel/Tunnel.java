package io.sdt.core.tunnel;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The running state of one configured tunnel: its listener address, its open channels and its last
 * error, for operators, the CLI and tests. Thread-safe.
 */
public final class Tunnel {

    private final int id;
    private final TunnelSpec spec;
    private final PeerFilter peers;
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder opened = new LongAdder();
    private final AtomicLong windowBytes = new AtomicLong();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder datagramsIn = new LongAdder();
    private final LongAdder datagramsOut = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder evicted = new LongAdder();
    private final LongAdder expired = new LongAdder();
    private final LongAdder strangers = new LongAdder();
    private final LongAdder bytesToLink = new LongAdder();
    private final LongAdder bytesFromLink = new LongAdder();
    private volatile java.util.function.LongSupplier tableSize = () -> 0;
    private volatile InetSocketAddress boundAddress;
    /** A remote tunnel's listener on each server that bound it (server name to address); guarded by this. */
    private final java.util.Map<String, InetSocketAddress> boundOn = new java.util.LinkedHashMap<>();
    private volatile String lastError;

    private volatile java.util.concurrent.CompletableFuture<Void> stopped =
            java.util.concurrent.CompletableFuture.completedFuture(null);

    /**
     * The ingress keeps state beyond its listener (a durable spool's thread and files): {@code f} completes
     * once that is released, after the listener closed.
     */
    public void stopsWith(java.util.concurrent.CompletableFuture<Void> f) {
        stopped = f;
    }

    /** Completes once the ingress released everything; at once for modes that keep nothing beyond the listener. */
    public java.util.concurrent.CompletableFuture<Void> stopped() {
        return stopped;
    }

    public Tunnel(int id, TunnelSpec spec) {
        this.id = id;
        this.spec = spec;
        this.peers = PeerFilter.of(spec.peer());
    }

    /** The id carried in OPEN and BIND frames; unique within one client. */
    public int id() {
        return id;
    }

    public TunnelSpec spec() {
        return spec;
    }

    /** True if the listener may take a connection or datagram from {@code source} (direct mode's filter). */
    public boolean admits(InetSocketAddress source) {
        return peers.admits(source);
    }

    /**
     * Where the ingress listens, or {@code null} while it does not (e.g. a remote tunnel with no link). A remote
     * tunnel of a client with several servers listens on each: this is the first server's listener that is up
     * ({@link #listeners()} has them all).
     */
    public InetSocketAddress boundAddress() {
        return boundAddress;
    }

    /** Why the last bind or channel open of this tunnel failed, or {@code null}. */
    public String lastError() {
        return lastError;
    }

    public int activeChannels() {
        return active.get();
    }

    public long channelsOpened() {
        return opened.sum();
    }

    /** Connections refused at the ingress because {@code max=} was reached. */
    public long channelsRejected() {
        return rejected.sum();
    }

    /** Claims a channel slot; false (and counted) if {@code max=} open channels exist already. */
    public boolean tryAcquire() {
        int max = spec.maxChannels();
        while (true) {
            int n = active.get();
            if (max > 0 && n >= max) {
                rejected.increment();
                return false;
            }
            if (active.compareAndSet(n, n + 1)) {
                opened.increment();
                return true;
            }
        }
    }

    /** Datagrams accepted at the ingress and sent up the link. */
    public long datagramsIn() {
        return datagramsIn.sum();
    }

    /** Datagrams that came back over the link and were sent to their source. */
    public long datagramsOut() {
        return datagramsOut.sum();
    }

    /** Datagrams dropped at the ingress (no link, link congested, refused, socket congested). */
    public long datagramsDropped() {
        return dropped.sum();
    }

    /** UDP source tuples evicted because the table was full ({@code max=}). */
    public long tuplesEvicted() {
        return evicted.sum();
    }

    /** UDP source tuples expired after {@code idle=} without traffic. */
    public long tuplesExpired() {
        return expired.sum();
    }

    /** UDP source tuples in the table now. */
    public long tupleCount() {
        return tableSize.getAsLong();
    }

    /** Connections and datagrams from sources other than a direct tunnel's peer, dropped. */
    public long strangersDropped() {
        return strangers.sum();
    }

    /**
     * Payload bytes of this tunnel's channels sent over the link by this node (what its customers, or for a
     * client's {@code -R} its targets, sent), whatever the mode: stream bytes, datagrams, push records.
     */
    public long bytesToLink() {
        return bytesToLink.sum();
    }

    /** Payload bytes of this tunnel's channels received from the link by this node. */
    public long bytesFromLink() {
        return bytesFromLink.sum();
    }

    public void sentToLink(int bytes) {
        bytesToLink.add(bytes);
    }

    public void receivedFromLink(int bytes) {
        bytesFromLink.add(bytes);
    }

    public void strangerDropped() {
        strangers.increment();
    }

    public void datagramIn() {
        datagramsIn.increment();
    }

    public void datagramOut() {
        datagramsOut.increment();
    }

    public void datagramDropped() {
        dropped.increment();
    }

    public void tupleEvicted() {
        evicted.increment();
    }

    public void tupleExpired() {
        expired.increment();
    }

    public void tableSize(java.util.function.LongSupplier size) {
        this.tableSize = size;
    }

    /** The receive windows of this tunnel's channels on this node changed by {@code delta} bytes. */
    public void windowChanged(long delta) {
        windowBytes.addAndGet(delta);
    }

    /**
     * The receive windows of this tunnel's channels on this node now: the ingress's windows, for the bytes
     * coming back from the egress (the egress node's windows belong to no tunnel of its own).
     */
    public long windowBytes() {
        return windowBytes.get();
    }

    /** Counts a channel opened without a cap check (UDP tuples are capped by their table). */
    public void acquired() {
        active.incrementAndGet();
        opened.increment();
    }

    public void release() {
        active.decrementAndGet();
    }

    public synchronized void bound(InetSocketAddress address) {
        boundAddress = address;
        if (address != null) {
            lastError = null;
        }
        notifyAll();
    }

    /** A remote tunnel's listener on {@code server} is bound at {@code address}. */
    public synchronized void boundOn(String server, InetSocketAddress address) {
        boundOn.put(server, address);
        bound(boundOn.values().iterator().next());
    }

    /** A remote tunnel's listener on {@code server} is gone (its link went down). */
    public synchronized void unboundOn(String server) {
        boundOn.remove(server);
        boundAddress = boundOn.isEmpty() ? null : boundOn.values().iterator().next();
    }

    /** A remote tunnel's listeners: server name to bound address, in the order they were bound. */
    public synchronized java.util.Map<String, InetSocketAddress> listeners() {
        return java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(boundOn));
    }

    public synchronized void failed(String message) {
        lastError = message;
        notifyAll();
    }

    /** Records a failure of one channel open (does not wake waiters of {@link #awaitBound}). */
    public void channelFailed(String message) {
        lastError = message;
    }

    /**
     * Waits until the tunnel is bound or a bind failed, at most {@code timeout}.
     *
     * @return the bound address, or {@code null} if the bind failed or the time ran out
     */
    public synchronized InetSocketAddress awaitBound(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (boundAddress == null && lastError == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return boundAddress;
    }

    @Override
    public String toString() {
        return "tunnel " + spec.label();
    }
}
