package io.sdt.core.tunnel.router.proxy;

import io.netty.buffer.ByteBuf;
import io.sdt.codec.ErrorCode;

import java.net.SocketAddress;

/**
 * The protocol half of one customer's handshake, SOCKS5 or HTTP CONNECT; {@link RouterFrontend}
 * owns the bytes, the timer and the socket. Confined to the socket's event loop.
 *
 * <p>Contract of {@link #decode}: consume complete messages from {@code in} (answering each on the
 * socket), then either return because more bytes are needed, or end with exactly one call of the
 * frontend's {@code connect}, {@code associate}, {@code refuse} or {@code abort}, after which
 * {@code in} must not be touched: the frontend may already have released it or handed it over.
 * Bytes of the request are consumed before that call, so what remains is the customer's leftover.
 */
abstract sealed class Handshake permits Socks5Handshake, HttpConnectHandshake {

    final RouterFrontend frontend;

    Handshake(RouterFrontend frontend) {
        this.frontend = frontend;
    }

    /** Reads what it can from {@code in}; see the class contract. {@code in} stays owned by the frontend. */
    abstract void decode(ByteBuf in);

    /** The success reply; {@code bound} is the socket's (or UDP association's) local address. */
    abstract ByteBuf success(SocketAddress bound);

    /** The refusal the protocol sends for {@code code}; the frontend closes after writing it. */
    abstract ByteBuf refusal(ErrorCode code);
}
