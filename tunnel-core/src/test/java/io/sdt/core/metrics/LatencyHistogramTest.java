package io.sdt.core.metrics;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LatencyHistogramTest {

    private static final long MS = 1_000_000L;

    @Test
    void boundsAreTheDocumentedOnesInSeconds() {
        assertArrayEquals(new double[] {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
                LatencyHistogram.upperBoundsSeconds());
    }

    @Test
    void aValueOnABoundCountsInThatBucketAndOneNanoMoreInTheNext() {
        long[] bounds = {500_000L, MS, 5 * MS / 2, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS,
                1000 * MS, 2500 * MS, 5000 * MS, 10_000 * MS};
        for (int i = 0; i < bounds.length; i++) {
            LatencyHistogram h = new LatencyHistogram();
            h.record(bounds[i]);
            h.record(bounds[i] + 1);
            long[] counts = h.snapshot().counts();
            assertEquals(15, counts.length, "14 finite buckets and +Inf");
            long[] want = new long[15];
            want[i] = 1;
            want[i + 1] = 1;
            assertArrayEquals(want, counts, "bound " + bounds[i] + " ns");
        }
    }

    @Test
    void zeroNegativeAndHugeTimes() {
        LatencyHistogram h = new LatencyHistogram();
        h.record(0);
        h.record(-5);            // a clock that stepped back: zero, first bucket
        h.record(Long.MAX_VALUE / 2);
        LatencyHistogram.Snapshot s = h.snapshot();
        assertEquals(2, s.counts()[0]);
        assertEquals(1, s.counts()[14], "+Inf bucket");
        assertEquals(3, s.count());
        assertEquals(Long.MAX_VALUE / 2, s.sumNanos(), "a negative time adds nothing to the sum");
    }

    @Test
    void cumulativeCountsSumAndCount() {
        LatencyHistogram h = new LatencyHistogram();
        h.record(300_000L);      // 0.3 ms  -> le 0.0005
        h.record(3 * MS);        // 3 ms    -> le 0.005
        h.record(3 * MS);
        h.record(700 * MS);      // 700 ms  -> le 1
        h.record(12_000 * MS);   // 12 s    -> +Inf
        LatencyHistogram.Snapshot s = h.snapshot();
        assertEquals(5, s.count());
        long[] cumulative = new long[15];
        for (int i = 0; i < 15; i++) {
            cumulative[i] = s.cumulative(i);
        }
        assertArrayEquals(new long[] {1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5}, cumulative);
        assertEquals(300_000L + 6 * MS + 700 * MS + 12_000 * MS, s.sumNanos());
        assertEquals(12.7063, s.sumSeconds(), 1e-9);
    }

    @Test
    void aSnapshotDoesNotChangeAfterwardsNorThroughItsArray() {
        LatencyHistogram h = new LatencyHistogram();
        h.record(MS);
        LatencyHistogram.Snapshot s = h.snapshot();
        h.record(MS);
        s.counts()[1] = 99;
        assertEquals(1, s.count());
        assertEquals(2, h.snapshot().count());
    }

    @Test
    void nodeStatsTimesAnOpenWithItsClockPerModeAndResult() {
        AtomicLong now = new AtomicLong(1_000 * MS);
        NodeStats stats = new NodeStats(now::get);
        long sent = stats.openSent();
        now.addAndGet(7 * MS);
        stats.openAnswered(ModeTag.TCP, true, sent);
        long sentUdp = stats.openSent();
        now.addAndGet(2 * MS);
        stats.openAnswered(ModeTag.UDP, false, sentUdp);

        LatencyHistogram.Snapshot tcpOk = stats.openLatency(ModeTag.TCP, true).snapshot();
        assertEquals(1, tcpOk.count());
        assertEquals(7 * MS, tcpOk.sumNanos());
        assertEquals(0, tcpOk.cumulative(3), "not within 5 ms");
        assertEquals(1, tcpOk.cumulative(4), "within 10 ms");
        assertEquals(0, stats.openLatency(ModeTag.TCP, false).snapshot().count());
        assertEquals(2 * MS, stats.openLatency(ModeTag.UDP, false).snapshot().sumNanos());
        assertEquals(0, stats.openLatency(ModeTag.UDP, true).snapshot().count());
        assertEquals(0, stats.openLatency(ModeTag.PUSH, true).snapshot().count());
    }
}
