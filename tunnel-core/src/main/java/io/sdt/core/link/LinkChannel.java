package io.sdt.core.link;

import io.netty.buffer.ByteBuf;
import io.sdt.codec.ErrorCode;
import io.sdt.codec.Frame;

/**
 * One channel in a link's table, as the link sees it. Every method runs on the link's event loop.
 * Buffers passed in are owned by the callee.
 */
public interface LinkChannel {

    /** The peer accepted this node's OPEN; {@code window} is the peer's receive window. */
    void onOpenOk(int window);

    /** The peer refused this node's OPEN. The channel must unregister itself. */
    void onOpenFail(ErrorCode code, String message);

    /** Stream bytes from the peer; the callee releases {@code payload}. */
    void onData(ByteBuf payload);

    /** A datagram from the peer; the callee releases {@code payload}. */
    void onDatagram(ByteBuf payload);

    /** Credit from the peer; channels without flow control (datagrams) ignore it. */
    default void onWindow(int increment) {
    }

    /** The peer's half-close; channels without a byte stream ignore it. */
    default void onEof() {
    }

    /**
     * PUSH_SEQ: the next DATA is record {@code seq} of the peer's durable spool {@code spoolId}.
     *
     * @return false if this channel does not take it (only a durable push egress does): a protocol error
     */
    default boolean onPushSeq(byte[] spoolId, long seq) {
        return false;
    }

    /**
     * PUSH_ACK: the peer delivered every record up to {@code seq}. The callee checks that it sent them.
     *
     * @return false if this channel does not take it (only a durable push ingress does): a protocol error
     */
    default boolean onPushAck(long seq) {
        return false;
    }

    /**
     * VPN_CONFIG: a VPN client's request (at the server) or the server's grant (at the client).
     *
     * @return false if this channel does not take it (only a vpn channel does): a protocol error
     */
    default boolean onVpnConfig(Frame.VpnConfig config) {
        return false;
    }

    /** The peer has closed the channel. The channel must unregister itself and send nothing more. */
    void onClose(ErrorCode code);

    /** Flushes whatever {@link #onData} or {@link #onDatagram} wrote to the local socket. */
    default void flushLocal() {
    }

    /** The link became writable again: resume reading local sockets if credit allows. */
    default void onLinkWritable() {
    }

    /** The link is gone: close the local side at once, send nothing. */
    void onLinkClosed();
}
