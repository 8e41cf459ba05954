package io.sdt.codec;

import io.netty.handler.codec.DecoderException;

/**
 * A protocol violation found while decoding a frame. The connection that carried it is unusable:
 * {@link FrameDecoder} fires this exception and closes the connection.
 */
public final class FrameException extends DecoderException {

    /** Why a frame was rejected; stable names for logs and metrics. */
    public enum Reason {
        /** The length prefix announces more than the decoder's maximum frame length. */
        TOO_LONG,
        /** The frame type byte is not one this version knows. */
        UNKNOWN_TYPE,
        /** A varint runs past the end of its frame, or past its four-byte limit. */
        BAD_VARINT,
        /** An address has an unknown family, a bad length or a bad port. */
        MALFORMED_ADDRESS,
        /** The frame body is shorter or longer than its type requires, or a field is out of range. */
        MALFORMED_FRAME
    }

    private final Reason reason;

    public FrameException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
