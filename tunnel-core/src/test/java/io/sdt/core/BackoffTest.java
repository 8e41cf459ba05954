package io.sdt.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackoffTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /** Delays of an outage in which every dial fails at once, until {@code seconds} have passed. */
    private static List<Long> outage(Backoff b, long seconds, java.util.function.LongUnaryOperator random) {
        List<Long> delays = new ArrayList<>();
        long now = 5 * SECOND;
        long end = now + seconds * SECOND;
        while (now < end) {
            long d = b.next(now, random);
            delays.add(d);
            now += TimeUnit.MILLISECONDS.toNanos(d);
        }
        return delays;
    }

    @Test
    void theQuickPhaseDoublesFromMinAndNeverWaitsMoreThanASecond() {
        Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));
        List<Long> delays = outage(b, 59, bound -> 0); // no jitter
        assertEquals(List.of(200L, 400L, 800L, 1000L, 1000L), delays.subList(0, 5));
        assertTrue(delays.stream().allMatch(d -> d <= 1000), delays.toString());
    }

    @Test
    void afterAMinuteTheDelayDoublesFromOneSecondUpToMax() {
        Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));
        List<Long> delays = outage(b, 200, bound -> 0);
        int quick = 0;
        long waited = 0;
        while (waited < 60_000) {
            waited += delays.get(quick++);
        }
        assertEquals(List.of(1000L, 2000L, 4000L, 8000L, 10_000L, 10_000L), delays.subList(quick, quick + 6));
        assertTrue(delays.stream().allMatch(d -> d <= 10_000), delays.toString());
    }

    @Test
    void jitterTakesAtMostAFifthOffAndSpreadsClients() {
        SplittableRandom r = new SplittableRandom(42);
        Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));
        List<Long> delays = outage(b, 30, r::nextLong);
        for (long d : delays.subList(3, delays.size())) {
            assertTrue(d > 800 && d <= 1000, "quick-phase delay " + d);
        }
        assertTrue(delays.stream().distinct().count() > delays.size() / 2, "jittered: " + delays);
    }

    @Test
    void aLinkThatCameUpStartsTheNextOutageQuickAgain() {
        Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));
        outage(b, 120, bound -> 0);
        assertTrue(b.attempts() > 60);
        b.reset();
        assertEquals(0, b.attempts());
        assertEquals(200, b.next(1000 * SECOND, bound -> 0));
        assertEquals(1, b.attempts());
    }

    @Test
    void aMaxBelowOneSecondCapsBothPhases() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(300));
        assertTrue(outage(b, 120, bound -> 0).stream().allMatch(d -> d <= 300));
    }
}
