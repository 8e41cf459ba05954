package io.sdt.core.tunnel.router.proxy;

import java.util.concurrent.atomic.AtomicInteger;

/** {@link RouterStats} that counts, for assertions; thread-safe. */
final class CountingStats implements RouterStats {
    final AtomicInteger malformed = new AtomicInteger();
    final AtomicInteger authFailed = new AtomicInteger();
    final AtomicInteger unsupportedCommand = new AtomicInteger();
    final AtomicInteger handshakeTimeout = new AtomicInteger();
    final AtomicInteger fragmentDropped = new AtomicInteger();
    final AtomicInteger strangerDropped = new AtomicInteger();
    final AtomicInteger datagramDropped = new AtomicInteger();

    @Override public void malformed() { malformed.incrementAndGet(); }
    @Override public void authFailed() { authFailed.incrementAndGet(); }
    @Override public void unsupportedCommand() { unsupportedCommand.incrementAndGet(); }
    @Override public void handshakeTimeout() { handshakeTimeout.incrementAndGet(); }
    @Override public void fragmentDropped() { fragmentDropped.incrementAndGet(); }
    @Override public void strangerDropped() { strangerDropped.incrementAndGet(); }
    @Override public void datagramDropped() { datagramDropped.incrementAndGet(); }

    /** Sum of every counter: 0 means nothing was counted. */
    int total() {
        return malformed.get() + authFailed.get() + unsupportedCommand.get() + handshakeTimeout.get()
                + fragmentDropped.get() + strangerDropped.get() + datagramDropped.get();
    }
}
