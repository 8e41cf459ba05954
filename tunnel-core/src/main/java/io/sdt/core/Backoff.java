package io.sdt.core;

import java.time.Duration;
import java.util.function.LongUnaryOperator;

/**
 * When a client dials again after a failed dial or a lost link. Two phases, so that a restarted server
 * has its clients back within about a second while a long outage is not hammered:
 * <ol>
 *   <li><b>quick</b>, for the first {@link #QUICK_PHASE} of an outage: {@code min} doubling per attempt, but
 *       never more than {@link #QUICK_CEILING} (1 s), so a server that comes back is found within a
 *       second;</li>
 *   <li><b>patient</b>, after that: {@link #QUICK_CEILING} doubling per attempt of this phase, up to
 *       {@code max}.</li>
 * </ol>
 * Every delay is then reduced by a random 0 to 20 % (jitter), so that many clients that lost the same
 * server do not dial it in step (no thundering herd). The caller supplies the clock and the randomness,
 * which keeps it testable. One per dialer, used on its loop.
 */
final class Backoff {

    static final Duration QUICK_PHASE = Duration.ofSeconds(60);
    static final Duration QUICK_CEILING = Duration.ofSeconds(1);

    private final long minMillis;
    private final long maxMillis;
    private long outageStart;
    private boolean inOutage;
    private int attempt;
    private int patientAttempt;

    /** {@code 0 < min <= max}, as {@link ClientConfig} has checked. */
    Backoff(Duration min, Duration max) {
        this.minMillis = min.toMillis();
        this.maxMillis = max.toMillis();
    }

    /** The link is up: the next failure starts a new outage, in the quick phase. */
    void reset() {
        inOutage = false;
        attempt = 0;
        patientAttempt = 0;
    }

    /** Dials that failed in this outage so far (the number of {@link #next} calls since {@link #reset}). */
    int attempts() {
        return attempt;
    }

    /**
     * A dial failed or the link was lost at {@code nowNanos} ({@link System#nanoTime()}): the delay
     * before the next dial, in milliseconds.
     *
     * @param random {@code bound -> } a uniform value in {@code [0, bound)}
     */
    long next(long nowNanos, LongUnaryOperator random) {
        if (!inOutage) {
            inOutage = true;
            outageStart = nowNanos;
        }
        long ceiling = Math.min(QUICK_CEILING.toMillis(), maxMillis);
        long base;
        if (nowNanos - outageStart < QUICK_PHASE.toNanos()) {
            base = Math.min(ceiling, minMillis << Math.min(attempt, 20));
        } else {
            base = Math.min(maxMillis, Math.max(minMillis, ceiling) << Math.min(patientAttempt, 20));
            patientAttempt++;
        }
        attempt++;
        return base - random.applyAsLong(base / 5 + 1);
    }
}
