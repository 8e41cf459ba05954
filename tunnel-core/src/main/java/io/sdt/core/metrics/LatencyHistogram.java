package io.sdt.core.metrics;

import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * A latency histogram with fixed buckets from half a millisecond to ten seconds, for times that
 * cross the link (a channel open). One {@link LongAdder} per bucket and one for the sum: recording
 * is lock-free, allocation-free and safe from any thread; a {@link #snapshot()} may run concurrently.
 *
 * <p>Buckets follow Prometheus: a value lands in the first bucket whose upper bound is at least the
 * value ({@code le}, inclusive); values above the last bound land in the {@code +Inf} bucket.
 */
public final class LatencyHistogram {

    /** The finite upper bounds, in nanoseconds: 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s. */
    private static final long[] BOUNDS_NANOS = {
            500_000L, 1_000_000L, 2_500_000L, 5_000_000L, 10_000_000L, 25_000_000L, 50_000_000L,
            100_000_000L, 250_000_000L, 500_000_000L, 1_000_000_000L, 2_500_000_000L, 5_000_000_000L,
            10_000_000_000L};

    private final LongAdder[] buckets = new LongAdder[BOUNDS_NANOS.length + 1];
    private final LongAdder sumNanos = new LongAdder();

    public LatencyHistogram() {
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    /** The finite upper bounds in seconds, ascending; the {@code +Inf} bucket follows the last. */
    public static double[] upperBoundsSeconds() {
        double[] s = new double[BOUNDS_NANOS.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = BOUNDS_NANOS[i] / 1e9;
        }
        return s;
    }

    /** Records one time; a negative one (a clock that stepped back) counts as zero. */
    public void record(long nanos) {
        long n = Math.max(0, nanos);
        int i = 0;
        while (i < BOUNDS_NANOS.length && n > BOUNDS_NANOS[i]) {
            i++;
        }
        buckets[i].increment();
        sumNanos.add(n);
    }

    /**
     * The counts now. The count is the sum of the buckets, so {@code +Inf} always equals it; under
     * concurrent recording the sum may include a time whose bucket is not yet counted, or the reverse.
     */
    public Snapshot snapshot() {
        long[] counts = new long[buckets.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = buckets[i].sum();
        }
        return new Snapshot(counts, sumNanos.sum());
    }

    /**
     * The histogram at one moment.
     *
     * @param counts   per bucket, not cumulative: one per finite bound in order, then the {@code +Inf} bucket
     * @param sumNanos the sum of all recorded times
     */
    public record Snapshot(long[] counts, long sumNanos) {

        public Snapshot {
            counts = counts.clone();
        }

        @Override
        public long[] counts() {
            return counts.clone();
        }

        public long count() {
            return Arrays.stream(counts).sum();
        }

        /** Times at most the {@code i}-th upper bound ({@code i == counts().length - 1}: all of them). */
        public long cumulative(int i) {
            long c = 0;
            for (int j = 0; j <= i; j++) {
                c += counts[j];
            }
            return c;
        }

        public double sumSeconds() {
            return sumNanos / 1e9;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Snapshot s && sumNanos == s.sumNanos && Arrays.equals(counts, s.counts);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(counts) + Long.hashCode(sumNanos);
        }

        @Override
        public String toString() {
            return "Snapshot" + Arrays.toString(counts) + " sum " + sumNanos + " ns";
        }
    }
}
