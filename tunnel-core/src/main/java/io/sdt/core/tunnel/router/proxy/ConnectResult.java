package io.sdt.core.tunnel.router.proxy;

import io.netty.buffer.ByteBuf;
import io.sdt.codec.ErrorCode;

/**
 * The backend's answer to one {@link ProxyBackend#connect} call. Exactly one of the two methods is
 * called, once, on the customer socket's event loop; a second call or a call from another thread
 * throws {@link IllegalStateException}.
 */
public interface ConnectResult {

    /**
     * The stream is open. The frontend writes the protocol's success reply (SOCKS5 REP 0x00 with
     * BND = the socket's local address; HTTP {@code 200 Connection established}), removes itself
     * from the socket's pipeline and returns the bytes the customer sent after its request (a TLS
     * ClientHello pipelined after CONNECT, say), possibly an empty buffer. The caller owns that
     * buffer and must release it or pass it on. The socket keeps AUTO_READ off and no read is
     * pending: the caller attaches its relay, sends the leftover, and calls {@code read()} itself.
     *
     * <p>If the customer half-closed while the backend was connecting, that event has already
     * passed: check {@code ((DuplexChannel) socket).isInputShutdown()}. If the socket has closed,
     * this returns an empty buffer and nothing is written.
     */
    ByteBuf succeeded();

    /**
     * The stream could not be opened: the frontend writes the protocol's refusal for {@code code}
     * and closes the socket. {@code message} is logged at DEBUG only; customers never see it.
     */
    void failed(ErrorCode code, String message);
}
