package io.sdt.core;

import io.sdt.core.metrics.NodeStats;

import java.time.Duration;

/** Waiting for a node's open channels to finish during a graceful shutdown. */
final class Drain {

    private static final long POLL_MILLIS = 50;

    private Drain() {
    }

    /** Waits until {@code stats} counts no open channel, at most {@code timeout}; true if none is left. */
    static boolean await(NodeStats stats, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (stats.channelsOpen() > 0) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            Thread.sleep(POLL_MILLIS);
        }
        return true;
    }
}
