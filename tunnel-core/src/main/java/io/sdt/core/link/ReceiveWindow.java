package io.sdt.core.link;

import io.sdt.core.metrics.NodeStats;

import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The receiving half of one channel's flow control: the window this node advertises, what the peer
 * sent, and when to send WINDOW. Credit goes back only for bytes the channel has consumed (written to
 * its local socket, or spooled), and only once a quarter of the window is due, so a slow local reader
 * stalls its own channel and one WINDOW frame covers many DATA frames.
 *
 * <p>With {@link Tuning} the window also sizes itself. It starts at the initial size and probes upward:
 * each time a whole window has been consumed (an epoch, at least {@link #MIN_EPOCH_NANOS} long) in at
 * most a second, it doubles, and the best epoch of the next {@link #PROBE_NANOS} tells whether that paid
 * (the peer's new credit takes a round trip to arrive, the link's own congestion control seconds to
 * follow); an epoch that already moved {@link #CLEARLY_PAID} times the rate before ends the probe at
 * once. Consumption that grew by at
 * least {@link #KEEP_GROWING} per doubling means the window was what held the channel back (a long fat
 * path): keep doubling, up to {@link Tuning#max()}. Less than {@link #WORTH_KEEPING} means something
 * else limits the channel (the path's bandwidth, a CPU, the local reader): go back to the previous size,
 * so no more bytes than useful sit in the queues between the two nodes, and try again only after
 * {@link #REPROBE_NANOS}. In between, keep the size and stop. A settled window above the initial size is
 * tried at half its size every {@link #REPROBE_NANOS} and kept there unless that cost throughput, so a
 * window that grew once (a path that was slower then, a JIT still warming) does not stay large forever;
 * a halving that cost throughput is undone, and the next probe tries larger again. The signal is the consumption rate, not a
 * round-trip time: a round trip measured through the link includes the very queues a larger window
 * fills, and growing on it feeds itself. The node's {@link NodeStats#reserveWindow account} bounds the sum
 * of all windows: a channel grows only while the node's budget has room. A channel whose reader stalls
 * consumes nothing, ends no epoch, and keeps its current window. Shrinking withholds credit until
 * consumption catches up; credit already granted stands, so a channel holds at most the largest window
 * it granted.
 *
 * <p>A window is also a cost: every quarter of it consumed sends a WINDOW frame, and on a fast path the
 * sender waits for it. A channel that turns its whole window over in less than {@link #BRISK_TURN_NANOS}
 * (256 KiB at 2 Gbit/s: every 1 ms) spends CPU on both nodes for each turn: wake-ups, small TLS records,
 * reads of data that waited in the kernel meanwhile. Such a channel grows its window, one doubling per
 * epoch and without a probe, until a turn takes that long or the window reaches {@link Tuning#brisk()}
 * (4 MiB by default; OpenSSH's channels use 2 MiB), whether or not the rate rises; no probe takes it
 * below that size while it keeps moving that fast. On loopback at 2 Gbit/s that saved about a tenth of
 * the CPU per byte of both nodes (4 MiB fixed windows against 256 KiB tuned ones, benchmarks/e2e/cpu.sh).
 * The bytes queued between the nodes for such a channel stay under {@link #BRISK_TURN_NANOS} of its rate.
 *
 * <p>Numbers only; confined to the link's event loop.
 */
public final class ReceiveWindow {

    /** An epoch lasts at least this long, so that a rate is not measured over one loop turn. */
    static final long MIN_EPOCH_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** A window consumed more slowly than this is not what limits the channel: no growth. */
    static final long MAX_EPOCH_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long a probe runs before its best epoch is compared with the rate before it. */
    static final long PROBE_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** After a doubling that did not pay, the next probe waits this long. */
    static final long REPROBE_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Consumption growth per doubling that says "the window was the limit: double again". */
    static final double KEEP_GROWING = 1.10;
    /**
     * Growth in one epoch of an upward probe that settles it at once: the window was plainly the limit
     * (a window-limited channel moves twice as much per round trip after a doubling), so the next
     * doubling need not wait out {@link #PROBE_NANOS}. On a 100 ms path that makes a doubling cost a few
     * round trips instead of two seconds. Only an epoch of at least {@link #LONG_EPOCH_NANOS} counts:
     * a window-limited epoch lasts a round trip of the path, while on a short path a fast epoch's rate
     * jumps for other reasons too (a JIT compiling the data path right after start made windows on
     * loopback climb to their maximum in three seconds).
     */
    static final double CLEARLY_PAID = 1.5;
    /** The shortest epoch whose rate may settle an upward probe early: a round trip of a long path. */
    static final long LONG_EPOCH_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** Below this growth per doubling the larger window only queues bytes: go back. */
    static final double WORTH_KEEPING = 1.03;
    /** A window consumed faster than this costs more in credit turns than it queues: grow it. */
    static final long BRISK_TURN_NANOS = TimeUnit.MILLISECONDS.toNanos(16);
    /** The size up to which a brisk channel's window grows by default. */
    public static final int BRISK_MAX = 4 << 20;

    /**
     * How a window sizes itself.
     *
     * @param max     largest window ({@code --window-max})
     * @param brisk   a channel that turns its window over in less than {@link #BRISK_TURN_NANOS} grows it up
     *                to this size (at most {@code max}) whatever its rate; 0: only the rate decides
     * @param budget  most bytes all windows of the node may add up to ({@code --buffer-budget})
     * @param account the node's account of granted windows
     * @param clock   nanoseconds, monotonic
     */
    public record Tuning(int max, int brisk, long budget, NodeStats account, LongSupplier clock) {

        /** A tuning whose brisk channels grow up to {@link #BRISK_MAX}, or {@code max} if smaller. */
        public Tuning(int max, long budget, NodeStats account, LongSupplier clock) {
            this(max, Math.min(max, BRISK_MAX), budget, account, clock);
        }
    }

    private final Tuning tuning;
    /** Told every change of the window's size (+initial at the start, -size at close); may be null. */
    private final LongConsumer sizes;
    private int window;
    private int threshold;
    /** Totals since the channel opened: what the peer sent, what was consumed, the credit granted. */
    private long received;
    private long consumedTotal;
    private long granted;
    // tuning
    private long epochStart = -1;
    private long epochBytes;
    private double baseRate;
    private int previous;
    private Probe probe = Probe.NONE;
    private long probeStart;
    private double bestRate;
    private boolean nextDown = true;
    private final int initial;
    private boolean settled;
    private long settledAt;
    private boolean closed;

    private enum Probe { NONE, UP, DOWN }

    /** A window of fixed size. */
    public ReceiveWindow(int window) {
        this(window, null, null);
    }

    /** @param initial the window advertised in OPEN or OPEN_OK (at least 1); @param tuning null for a fixed size */
    public ReceiveWindow(int initial, Tuning tuning) {
        this(initial, tuning, null);
    }

    /**
     * @param initial the window advertised in OPEN or OPEN_OK (at least 1)
     * @param tuning  null for a fixed size
     * @param sizes   told each change of the window's size, null for none (a tunnel's gauge of its windows)
     */
    public ReceiveWindow(int initial, Tuning tuning, LongConsumer sizes) {
        if (initial < 1) {
            throw new IllegalArgumentException("window must be positive: " + initial);
        }
        this.tuning = tuning;
        this.initial = initial;
        this.window = initial;
        this.threshold = Math.max(1, initial / 4);
        this.granted = initial;
        this.sizes = sizes;
        if (tuning != null) {
            tuning.account().reserveWindow(initial, Long.MAX_VALUE); // a channel always gets its initial window
        }
        if (sizes != null) {
            sizes.accept(initial);
        }
    }

    /** The window now: what the peer may have sent and not yet had credited back. */
    public int size() {
        return window;
    }

    /**
     * Counts {@code bytes} arriving from the peer.
     *
     * @return false if they overrun the credit granted: the peer broke the protocol
     */
    public boolean receive(int bytes) {
        received += bytes;
        return received <= granted;
    }

    /**
     * Counts {@code bytes} the channel has consumed.
     *
     * @return the increment to send in a WINDOW frame now, or 0 while less than a quarter window is due
     */
    public int consume(int bytes) {
        consumedTotal += bytes;
        if (tuning != null && !closed) {
            tune(bytes);
        }
        long due = consumedTotal + window - granted;
        if (due < threshold) {
            return 0;
        }
        granted += due;
        return (int) due;
    }

    private void tune(int bytes) {
        if (epochStart < 0) {
            epochStart = tuning.clock().getAsLong();
            epochBytes = 0;
        }
        epochBytes += bytes;
        if (epochBytes < window) {
            return; // the clock is read only when an epoch may end: this runs for every write completion
        }
        long now = tuning.clock().getAsLong();
        long elapsed = now - epochStart;
        if (epochBytes < window || elapsed < MIN_EPOCH_NANOS) {
            return;
        }
        double rate = epochBytes / (double) elapsed;
        epochStart = now;
        epochBytes = 0;
        if (probe == Probe.NONE && brisk(window, rate)) {
            // turning over too fast to be cheap: grow, whether or not it raises the rate
            if (grow((int) Math.min(tuning.brisk(), 2L * window))) {
                tuning.account().windowGrew();
            }
            return;
        }
        if (probe != Probe.NONE) {
            // a change takes a while to turn into rate: the peer's new credit a round trip, the link's own
            // congestion control (BBR raises its estimate by a quarter every eight round trips) seconds.
            // Judge a probe by the best epoch of PROBE_NANOS.
            bestRate = Math.max(bestRate, rate);
            boolean clearlyPaid = probe == Probe.UP && elapsed >= LONG_EPOCH_NANOS && rate >= baseRate * CLEARLY_PAID;
            if (now - probeStart < PROBE_NANOS && !clearlyPaid) {
                return;
            }
            rate = bestRate;
        }
        switch (probe) {
            case UP -> {
                probe = Probe.NONE;
                if (rate < baseRate * WORTH_KEEPING) {
                    if (!brisk(previous, rate)) {
                        resize(previous); // the doubling did not pay: back, and rest
                    }
                    settle(now);
                    return;
                }
                if (rate < baseRate * KEEP_GROWING) {
                    settle(now); // worth keeping, not worth doubling again for a while
                    return;
                }
            }
            case DOWN -> {
                probe = Probe.NONE;
                if (rate * WORTH_KEEPING < baseRate) {
                    grow(previous); // the halving cost throughput: the larger window was needed
                    nextDown = false; // so next time, see whether a larger one pays
                }
                settle(now);
                return;
            }
            case NONE -> {
                if (settled && now - settledAt >= REPROBE_NANOS && window > initial && nextDown
                        && !brisk(Math.max(initial, window / 2), rate)) {
                    // a settled window is tried at half its size now and then: what paid once (a path, or a
                    // warming JIT) may not pay any more, and a window larger than needed only fills queues
                    baseRate = rate;
                    previous = window;
                    resize(Math.max(initial, window / 2));
                    probe = Probe.DOWN;
                    probeStart = now;
                    bestRate = 0;
                    return;
                }
            }
        }
        if ((settled && now - settledAt < REPROBE_NANOS) || elapsed > MAX_EPOCH_NANOS || window >= tuning.max()) {
            return;
        }
        int was = window;
        if (grow((int) Math.min(tuning.max(), 2L * window))) {
            tuning.account().windowGrew();
            baseRate = rate;
            previous = was;
            probe = Probe.UP;
            probeStart = now;
            bestRate = 0;
            nextDown = true; // after this climb settles, the next probe tries smaller first
        }
    }

    /** A window of {@code size} would turn over faster than {@link #BRISK_TURN_NANOS} at {@code rate} (bytes/ns). */
    private boolean brisk(int size, double rate) {
        return size < tuning.brisk() && size < rate * BRISK_TURN_NANOS;
    }

    private void settle(long now) {
        settled = true;
        settledAt = now;
    }

    /** Grows to {@code size} if the node's budget has room. */
    private boolean grow(int size) {
        if (!tuning.account().reserveWindow(size - window, tuning.budget())) {
            return false; // the node's budget is spent: stay
        }
        told(size - window);
        window = size;
        threshold = Math.max(1, window / 4);
        return true;
    }

    /** Shrinks to {@code size}: credit resumes once consumption catches up with the smaller window. */
    private void resize(int size) {
        tuning.account().releaseWindow(window - size);
        told(size - window);
        window = size;
        threshold = Math.max(1, window / 4);
    }

    /** Received bytes not yet credited back (consumed or not). */
    public long outstanding() {
        return received - (granted - window);
    }

    /** The channel is gone: its window goes back to the node's budget. Idempotent. */
    public void close() {
        if (!closed) {
            if (tuning != null) {
                tuning.account().releaseWindow(window);
            }
            told(-window);
        }
        closed = true;
    }

    private void told(long delta) {
        if (sizes != null) {
            sizes.accept(delta);
        }
    }
}
