package io.sdt.core;

import com.github.benmanes.caffeine.cache.Ticker;
import io.sdt.core.link.LinkSettings;
import io.sdt.core.link.Token;
import io.sdt.core.transport.Transport;

/**
 * What the builders of a server's and a client's configuration share: the token, the transport, the
 * link settings, the number of event-loop threads and the clock. Fluent: every setter returns the
 * builder it was called on.
 *
 * @param <B> the concrete builder
 */
public abstract class NodeBuilder<B extends NodeBuilder<B>> {

    Token token;
    Transport transport = Transport.select("auto");
    LinkSettings settings = LinkSettings.defaults();
    int threads;
    Ticker ticker = Ticker.systemTicker();
    java.nio.file.Path pushStateDir;

    NodeBuilder(int threads) {
        this.threads = threads;
    }

    private B self() {
        @SuppressWarnings("unchecked")
        B b = (B) this;
        return b;
    }

    public B token(Token token) {
        this.token = token;
        return self();
    }

    public B token(String token) {
        return token(Token.of(token));
    }

    public B transport(Transport transport) {
        this.transport = transport;
        return self();
    }

    public B settings(LinkSettings settings) {
        this.settings = settings;
        return self();
    }

    public B threads(int threads) {
        this.threads = threads;
        return self();
    }

    /** The clock of UDP tuple expiry (tests inject a fake one). */
    public B ticker(Ticker ticker) {
        this.ticker = ticker;
        return self();
    }

    /**
     * Where this node keeps, per durable push spool, the last record its egress delivered
     * ({@code push.spool_dir}); without it that is kept in memory and a restart may deliver again.
     */
    public B pushStateDir(java.nio.file.Path dir) {
        this.pushStateDir = dir;
        return self();
    }

    /** The token, which both roles require. */
    Token requireToken() {
        if (token == null) {
            throw new IllegalArgumentException("a token is required");
        }
        return token;
    }
}
