package io.sdt.encap;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * Remembers the client nonces the server has accepted proofs for, so none is honoured twice. Bounded in
 * time ({@code window}) and size. Server nonces need no table: each is fresh per connection and used for at
 * most one response. Thread-safe (Caffeine); the engine uses it from its event loop only.
 */
final class ReplayGuard {

    private final Cache<ByteBuffer, Boolean> seen;

    ReplayGuard(Ticker ticker, Duration window, long maxEntries) {
        seen = Caffeine.newBuilder().ticker(ticker).executor(Runnable::run)
                .expireAfterWrite(window).maximumSize(maxEntries).build();
    }

    /** {@code true} the first time {@code nonce} is offered within the window, {@code false} after. */
    boolean firstUse(byte[] nonce) {
        return seen.asMap().putIfAbsent(ByteBuffer.wrap(nonce.clone()), Boolean.TRUE) == null;
    }
}
