package io.sdt.core.tunnel.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.sdt.codec.ErrorCode;

/**
 * Who hears the far node's answer to an ingress stream's OPEN. A forwarded connection hears nothing: it
 * was accepted before the OPEN, and a refusal closes it ({@link #closing}). A router's customer waits
 * for its protocol's reply (SOCKS5 REP, HTTP status), which its front end writes, unless its listener is
 * optimistic and has told it success already ({@link #optimistic}). Called once, on the link's event loop.
 *
 * <p>An {@link #early} answer lets the stream read its customer before the answer: on a link that agreed on
 * early data the OPEN carries the customer's first bytes, which saves the customer a round trip whenever
 * it speaks first (HTTP, a TLS ClientHello). {@link #accepted} is then called as soon as the OPEN has
 * gone, and {@link #refused} may still follow it.
 */
public interface OpenAnswer {

    /**
     * The channel is open (for an {@link #early} answer: the OPEN has gone). Returns the bytes the customer
     * sent ahead (a TLS ClientHello pipelined after CONNECT, say), possibly an empty buffer; the stream sends
     * them first and releases them.
     */
    ByteBuf accepted();

    /** Whether the customer may be read before the answer: it waits for no reply, or has had one already. */
    default boolean early() {
        return false;
    }

    /** The channel could not be opened, or the link went first: tell the customer and close its socket. */
    void refused(ErrorCode code, String message);

    /**
     * The answer of a plain forwarded connection: nothing to say; a refusal closes {@code socket} (the stream
     * resets it instead when it had taken bytes from it).
     */
    static OpenAnswer closing(Channel socket) {
        return new OpenAnswer() {
            @Override
            public ByteBuf accepted() {
                return Unpooled.EMPTY_BUFFER;
            }

            @Override
            public void refused(ErrorCode code, String message) {
                socket.close();
            }

            @Override
            public boolean early() {
                return true;
            }
        };
    }

    /**
     * The answer of an optimistic router customer, which has been told success already and sent
     * {@code ahead} after its request: a refusal can no longer be said in its protocol, so its connection
     * is reset, which no client reads as a complete exchange.
     */
    static OpenAnswer optimistic(Channel socket, ByteBuf ahead) {
        return new OpenAnswer() {
            /** Until the stream takes it: a refusal before that (no link) releases it. */
            private ByteBuf left = ahead;

            @Override
            public ByteBuf accepted() {
                ByteBuf b = left;
                left = Unpooled.EMPTY_BUFFER;
                return b;
            }

            @Override
            public void refused(ErrorCode code, String message) {
                left.release();
                left = Unpooled.EMPTY_BUFFER;
                LocalSockets.reset(socket);
            }

            @Override
            public boolean early() {
                return true;
            }
        };
    }
}
