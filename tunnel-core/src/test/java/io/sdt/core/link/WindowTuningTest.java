package io.sdt.core.link;

import io.sdt.core.metrics.NodeStats;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Autotuned receive windows ({@link ReceiveWindow} with a tuning) against a simulated peer and an injected
 * clock: a path where each round trip delivers the smaller of the window and what the bottleneck carries
 * in one round trip, the receiver consuming as it arrives.
 */
class WindowTuningTest {

    private static final int INITIAL = 256 * 1024;
    private static final int MAX = 32 << 20;
    private static final int CHUNK = 16 * 1024;

    private final NodeStats stats = new NodeStats();
    private long now = 1_000_000_000L;

    /** What a tunnel's gauge would show: the sum of the size changes the windows told. */
    private long told;

    private ReceiveWindow window(long budget) {
        return new ReceiveWindow(INITIAL, new ReceiveWindow.Tuning(MAX, budget, stats, () -> now), d -> told += d);
    }

    /**
     * One round trip of {@code rttNanos} on a path of {@code bytesPerSecond}: the peer sends what its credit
     * and the path allow, and the receiver consumes it evenly over the round trip. Returns the bytes moved.
     */
    private long round(ReceiveWindow w, long rttNanos, double bytesPerSecond) {
        long bytes = (long) Math.min(w.size(), bytesPerSecond * rttNanos / 1e9);
        long start = now;
        for (long done = 0; done < bytes; done += CHUNK) {
            int n = (int) Math.min(CHUNK, bytes - done);
            assertTrue(w.receive(n), "the peer stays within the credit it was granted");
            now = start + (long) ((double) rttNanos * (done + n) / bytes);
            w.consume(n);
        }
        if (bytes == 0) {
            now += rttNanos;
        }
        return bytes;
    }

    @Test
    void aLongFatPathGrowsTheWindowToCoverItsBandwidthDelayProductAndNoFurther() {
        ReceiveWindow w = window(1L << 40);
        long rtt = TimeUnit.MILLISECONDS.toNanos(100);
        double gbit = 125e6; // 1 Gbit/s: a bandwidth-delay product of 12.5 MB at 100 ms
        long bdp = (long) (gbit * 0.1);
        int rounds = 0;
        while (w.size() < bdp && rounds < 200) {
            round(w, rtt, gbit);
            rounds++;
        }
        // a doubling that plainly paid is judged within a few round trips, not after the two-second probe
        assertTrue(rounds <= 30, "covered the path in " + rounds + " round trips of 100 ms");
        for (int i = rounds; i < 200; i++) { // 20 s in all: it settles there
            round(w, rtt, gbit);
        }
        assertTrue(w.size() >= bdp, "covers the path: " + w.size() + " >= " + bdp);
        assertTrue(w.size() <= 2 * bdp, "and no more than twice it: " + w.size());
        long moved = 0;
        for (int i = 0; i < 10; i++) {
            moved += round(w, rtt, gbit);
        }
        assertTrue(moved >= 0.95 * gbit, "a full second at the path's rate: " + moved);
        assertTrue(stats.windowGrowths() >= 6, "256 KiB to 16 MiB is six doublings: " + stats.windowGrowths());
        assertEquals(w.size(), stats.windowBytes(), "the node's account holds this one window");
        assertEquals(w.size(), told, "and so does the tunnel's gauge");
        w.close();
        assertEquals(0, stats.windowBytes());
        assertEquals(0, told, "a closed channel's window leaves the tunnel's gauge");
    }

    @Test
    void aRateJumpOnAShortPathDoesNotSettleAProbeEarly() {
        ReceiveWindow w = window(1L << 40);
        long rtt = TimeUnit.MICROSECONDS.toNanos(100);
        long start = now;
        // a node warming up: the rate doubles and doubles again whatever the window (a JIT, not the path)
        while (now - start < TimeUnit.MILLISECONDS.toNanos(1_500)) {
            double warm = now - start < TimeUnit.MILLISECONDS.toNanos(300) ? 2.5e8
                    : now - start < TimeUnit.MILLISECONDS.toNanos(600) ? 5e8 : 1e9;
            round(w, rtt, warm);
        }
        assertEquals(1, stats.windowGrowths(), "one doubling, judged over the whole probe, not on one fast epoch");
        assertEquals(2 * INITIAL, w.size());
    }

    @Test
    void aWindowThatDoesNotPayGoesBackAndWaitsBeforeTryingAgain() {
        ReceiveWindow w = window(1L << 40);
        long rtt = TimeUnit.MICROSECONDS.toNanos(100);
        double cpuBound = 1e9; // 1 GB/s whatever the window: the limit is elsewhere (a CPU, the local reader)
        for (int i = 0; i < 30_000; i++) { // 3 s: the probe of two seconds is over
            round(w, rtt, cpuBound);
        }
        assertEquals(INITIAL, w.size(), "one doubling tried, it did not pay, back to the start");
        assertEquals(1, stats.windowGrowths());
        for (int i = 0; i < 120_000; i++) { // 12 s more: one more probe, judged and undone
            round(w, rtt, cpuBound);
        }
        assertEquals(INITIAL, w.size());
        assertEquals(2, stats.windowGrowths(), "probed again once after " + ReceiveWindow.REPROBE_NANOS / 1e9 + " s");
    }

    @Test
    void aWindowThatNoLongerPaysComesBackDown() {
        ReceiveWindow w = window(1L << 40);
        for (int i = 0; i < 200; i++) { // first a long fat path: the window grows to its 12.5 MB
            round(w, TimeUnit.MILLISECONDS.toNanos(100), 125e6);
        }
        int grown = w.size();
        assertTrue(grown >= 8 * INITIAL, "grew on the long path: " + grown);
        // then the limit moves (the path got short, a CPU became the bottleneck): the rate no longer
        // depends on the window, and every halving tried every ten seconds costs nothing
        for (int i = 0; i < 600_000; i++) { // 60 s at 1 GB/s over 100 us
            round(w, TimeUnit.MICROSECONDS.toNanos(100), 1e9);
        }
        assertTrue(w.size() <= grown / 8, "halved while that cost nothing: " + grown + " -> " + w.size());
        assertEquals(w.size(), stats.windowBytes());
    }

    @Test
    void aSlowReaderNeverGrowsItsWindow() {
        ReceiveWindow w = window(1L << 40);
        long rtt = TimeUnit.MILLISECONDS.toNanos(10);
        for (int i = 0; i < 3_000; i++) { // 30 s at 100 KB/s: a window takes 2.6 s to consume
            round(w, rtt, 100e3);
        }
        assertEquals(INITIAL, w.size());
        assertEquals(0, stats.windowGrowths());
    }

    @Test
    void aReaderThatStallsAfterGrowingHoldsAtMostItsCurrentWindow() {
        ReceiveWindow w = window(1L << 40);
        long rtt = TimeUnit.MILLISECONDS.toNanos(100);
        for (int i = 0; i < 60; i++) {
            round(w, rtt, 125e6);
        }
        int grown = w.size();
        assertTrue(grown > INITIAL, "grew first: " + grown);
        // the local reader stops: the peer sends everything its credit allows, and nothing more
        long held = 0;
        while (w.receive(CHUNK)) {
            held += CHUNK;
            assertTrue(held <= grown, "never more than the window: " + held);
        }
        assertTrue(w.outstanding() > grown, "the byte past the credit is the peer's violation");
        assertEquals(grown, w.size(), "nothing consumed: no epoch ends, the window stays");
    }

    @Test
    void theNodeBudgetCapsTheSumOfAllWindows() {
        long budget = 40L * INITIAL; // room for 20 channels at twice their initial window
        List<ReceiveWindow> channels = new ArrayList<>();
        List<long[]> clocks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            clocks.add(new long[] {now}); // each channel on its own long fat path, all in the same period
            channels.add(window(budget));
        }
        long rtt = TimeUnit.MILLISECONDS.toNanos(100);
        for (int r = 0; r < 200; r++) {
            for (int i = 0; i < channels.size(); i++) {
                now = clocks.get(i)[0];
                round(channels.get(i), rtt, 125e6);
                clocks.get(i)[0] = now;
            }
            assertTrue(stats.windowBytes() <= budget, "within the budget: " + stats.windowBytes());
        }
        long sum = channels.stream().mapToLong(ReceiveWindow::size).sum();
        assertEquals(sum, stats.windowBytes(), "the account is the sum of the windows");
        assertTrue(sum > budget - INITIAL * 8L, "and the budget is used: " + sum);
        for (ReceiveWindow w : channels) {
            w.close();
            w.close(); // idempotent
        }
        assertEquals(0, stats.windowBytes(), "closed channels give their windows back");
    }

    @Test
    void aFixedWindowNeverMoves() {
        ReceiveWindow w = new ReceiveWindow(INITIAL);
        for (int i = 0; i < 50; i++) {
            round(w, TimeUnit.MILLISECONDS.toNanos(100), 125e6);
        }
        assertEquals(INITIAL, w.size());
        assertEquals(0, stats.windowBytes());
        assertFalse(stats.windowGrowths() > 0);
    }
}
