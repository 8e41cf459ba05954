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

    /** A window that only its rate sizes (no growth for brisk channels): the probes alone. */
    private ReceiveWindow window(long budget) {
        return new ReceiveWindow(INITIAL, new ReceiveWindow.Tuning(MAX, 0, budget, stats, () -> now), d -> told += d);
    }

    /** A window as a link makes it: brisk channels grow up to {@link ReceiveWindow#BRISK_MAX} too. */
    private ReceiveWindow linkWindow(int max, long budget) {
        return new ReceiveWindow(INITIAL, new ReceiveWindow.Tuning(max, budget, stats, () -> now), d -> told += d);
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
    void aBriskChannelGrowsItsWindowThoughTheRateDoesNotRiseAndKeepsIt() {
        ReceiveWindow w = linkWindow(MAX, 1L << 40);
        long rtt = TimeUnit.MICROSECONDS.toNanos(100);
        double cpuBound = 1e9; // 1 GB/s whatever the window: 256 KiB turns over every 0.26 ms
        long start = now;
        while (w.size() < ReceiveWindow.BRISK_MAX && now - start < TimeUnit.SECONDS.toNanos(1)) {
            round(w, rtt, cpuBound);
        }
        assertEquals(ReceiveWindow.BRISK_MAX, w.size(), "256 KiB to 4 MiB, four doublings, none of them probed");
        assertTrue(now - start < TimeUnit.MILLISECONDS.toNanos(100), "in " + (now - start) / 1e6 + " ms");
        assertEquals(4, stats.windowGrowths());
        for (int i = 0; i < 30_000; i++) { // 3 s: then the rate's own probe tries 8 MiB, which does not pay
            round(w, rtt, cpuBound);
        }
        assertEquals(ReceiveWindow.BRISK_MAX, w.size(), "the probe's doubling undone, back to the brisk size");
        assertEquals(5, stats.windowGrowths());
        for (int i = 0; i < 250_000; i++) { // 25 s more: halvings tried every 10 s
            round(w, rtt, cpuBound);
        }
        assertEquals(ReceiveWindow.BRISK_MAX, w.size(), "no probe takes a brisk channel below its brisk size");
        assertEquals(w.size(), stats.windowBytes());
        assertEquals(w.size(), told);
    }

    @Test
    void aChannelSlowerThanBriskIsSizedByItsRateAlone() {
        ReceiveWindow w = linkWindow(MAX, 1L << 40);
        long rtt = TimeUnit.MICROSECONDS.toNanos(100);
        double cpuBound = 10e6; // 10 MB/s whatever the window: 256 KiB lasts 26 ms, longer than a brisk turn
        for (int i = 0; i < 30_000; i++) { // 3 s: one doubling probed, it did not pay, undone
            round(w, rtt, cpuBound);
        }
        assertEquals(INITIAL, w.size());
        assertEquals(1, stats.windowGrowths());
    }

    @Test
    void aBriskChannelComesDownFromALongPathsWindowToItsBriskSizeAndNoFurther() {
        ReceiveWindow w = linkWindow(MAX, 1L << 40);
        for (int i = 0; i < 200; i++) { // a long fat path: the window grows to cover its 12.5 MB
            round(w, TimeUnit.MILLISECONDS.toNanos(100), 125e6);
        }
        assertTrue(w.size() >= 16 << 20, "grew on the long path: " + w.size());
        for (int i = 0; i < 600_000; i++) { // 60 s at 1 GB/s over 100 us: halvings cost nothing
            round(w, TimeUnit.MICROSECONDS.toNanos(100), 1e9);
        }
        assertEquals(ReceiveWindow.BRISK_MAX, w.size());
    }

    @Test
    void aBriskWindowStaysWithinWindowMaxAndTheNodeBudget() {
        ReceiveWindow capped = linkWindow(1 << 20, 1L << 40);
        long budget = (3 << 20) + INITIAL; // 1 MiB for the first, 2 MiB and its initial 256 KiB for the second
        ReceiveWindow second = linkWindow(MAX, budget);
        for (int i = 0; i < 10_000; i++) {
            round(capped, TimeUnit.MICROSECONDS.toNanos(100), 1e9);
            round(second, TimeUnit.MICROSECONDS.toNanos(100), 1e9);
        }
        assertEquals(1 << 20, capped.size(), "--window-max below the brisk size caps it");
        assertEquals(2 << 20, second.size(), "the next doubling, to 4 MiB, finds no room in the budget");
        assertEquals(3 << 20, stats.windowBytes());
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
