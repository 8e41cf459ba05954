package io.sdt.core.tunnel.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.sdt.codec.ErrorCode;

/**
 * Who hears the far node's answer to an ingress stream's OPEN. A forwarded connection hears nothing: it
 * was accepted before the OPEN, and a refusal closes it ({@link #closing}). A router's customer waits
 * for its protocol's reply (SOCKS5 REP, HTTP status), which its front end writes. Called once, on the
 * link's event loop.
 */
public interface OpenAnswer {

    /**
     * The channel is open. Returns the bytes the customer sent ahead of the answer (a TLS ClientHello
     * pipelined after CONNECT, say), possibly an empty buffer; the stream sends them first and releases them.
     */
    ByteBuf accepted();

    /** The channel could not be opened, or the link went first: tell the customer and close its socket. */
    void refused(ErrorCode code, String message);

    /** The answer of a plain forwarded connection: nothing to say; a refusal closes {@code socket}. */
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
        };
    }
}
