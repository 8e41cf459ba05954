package io.sdt.core.link;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.Logger;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Keeps per-connection noise (refused, failed or timed-out handshakes) from flooding the operational
 * log: in each window the first {@code burst} events are logged in full, the rest only counted, and
 * the count is written as one summary line when the window has passed ({@link #summarize}, called
 * periodically, or by the next event). The counters of {@code /metrics} stay exact; only the lines are
 * rationed. Thread-safe (a handful of calls per connection).
 */
public final class LogBudget {

    private final Logger log;
    private final String what;
    private final int burst;
    private final long windowNanos;
    private final LongSupplier nanoTime;
    private long windowStart;
    private int logged;
    private long suppressed;

    /**
     * @param what the events, in plural, for the summary ("failed handshakes")
     */
    public LogBudget(Logger log, String what, int burst, long window, TimeUnit unit, LongSupplier nanoTime) {
        this.log = log;
        this.what = what;
        this.burst = burst;
        this.windowNanos = unit.toNanos(window);
        this.nanoTime = nanoTime;
        this.windowStart = nanoTime.getAsLong();
    }

    /** Ten lines a minute in full, then a summary: what a node uses for its per-connection noise. */
    public static LogBudget perMinute(Logger log, String what) {
        return new LogBudget(log, what, 10, 1, TimeUnit.MINUTES, System::nanoTime);
    }

    /** Logs the event if the budget allows, else counts it; the message is only formatted when logged. */
    public void log(Level level, String format, Object... args) {
        if (take()) {
            log.log(level, format, args);
        }
    }

    /** True if this event may be logged in full; false once the window's budget is spent (then counted). */
    public boolean take() {
        summarize();
        synchronized (this) {
            if (logged < burst) {
                logged++;
                return true;
            }
            suppressed++;
            return false;
        }
    }

    /** Writes the summary of a window that has passed, if it suppressed anything, and starts a new one. */
    public void summarize() {
        long n;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            if (now - windowStart < windowNanos) {
                return;
            }
            n = suppressed;
            windowStart = now;
            logged = 0;
            suppressed = 0;
        }
        if (n > 0) {
            log.warn("{} more {} in the last {} s, not logged one by one (see /metrics)", n, what,
                    TimeUnit.NANOSECONDS.toSeconds(windowNanos));
        }
    }
}
