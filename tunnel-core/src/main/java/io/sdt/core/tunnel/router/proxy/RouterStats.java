package io.sdt.core.tunnel.router.proxy;

/**
 * Counters of the router frontend, one call per event; implementations must be cheap and thread-safe
 * (associations on different event loops call them concurrently). {@link #NOOP} ignores everything.
 */
public interface RouterStats {

    /** Ignores every event. */
    RouterStats NOOP = new RouterStats() {
        @Override public void malformed() { }
        @Override public void authFailed() { }
        @Override public void unsupportedCommand() { }
        @Override public void handshakeTimeout() { }
        @Override public void fragmentDropped() { }
        @Override public void strangerDropped() { }
        @Override public void datagramDropped() { }
    };

    /**
     * A handshake or UDP header that breaks the protocol: unknown first byte, wrong version, bad
     * address type or name, port 0, bad HTTP request line, header or size.
     */
    void malformed();

    /** Wrong credentials, or no acceptable SOCKS5 method offered. */
    void authFailed();

    /** SOCKS5 BIND or an unknown command, a SOCKS4 client, an HTTP method other than CONNECT. */
    void unsupportedCommand();

    /** A customer that did not finish its handshake in time. */
    void handshakeTimeout();

    /** A SOCKS5 UDP datagram with FRAG != 0 (fragmentation is not supported). */
    void fragmentDropped();

    /** A UDP datagram from a source other than the association's client. */
    void strangerDropped();

    /** A UDP datagram with nowhere to go: no sink yet, no known client, socket full or closed. */
    void datagramDropped();
}
