package io.sdt.core.tunnel.router;

import io.sdt.core.tunnel.router.proxy.RouterStats;

import java.util.concurrent.atomic.LongAdder;

/** The router front end's counters of one node. Thread-safe. */
public final class RouterCounters implements RouterStats {

    private final LongAdder malformed = new LongAdder();
    private final LongAdder authFailed = new LongAdder();
    private final LongAdder unsupported = new LongAdder();
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder fragments = new LongAdder();
    private final LongAdder strangers = new LongAdder();
    private final LongAdder dropped = new LongAdder();

    @Override
    public void malformed() {
        malformed.increment();
    }

    @Override
    public void authFailed() {
        authFailed.increment();
    }

    @Override
    public void unsupportedCommand() {
        unsupported.increment();
    }

    @Override
    public void handshakeTimeout() {
        timeouts.increment();
    }

    @Override
    public void fragmentDropped() {
        fragments.increment();
    }

    @Override
    public void strangerDropped() {
        strangers.increment();
    }

    @Override
    public void datagramDropped() {
        dropped.increment();
    }

    public long malformedRequests() {
        return malformed.sum();
    }

    public long authFailures() {
        return authFailed.sum();
    }

    public long unsupportedCommands() {
        return unsupported.sum();
    }

    public long handshakeTimeouts() {
        return timeouts.sum();
    }

    public long fragmentsDropped() {
        return fragments.sum();
    }

    public long strangersDropped() {
        return strangers.sum();
    }

    public long datagramsDropped() {
        return dropped.sum();
    }
}
