package io.sdt.core.link;

/**
 * Handler names of every pipeline, in pipeline order.
 *
 * <pre>
 * link, accepted:    first-byte   (until the first byte arrives)
 * link (both sides): tls -> frame-decoder -> frame-encoder -> auth   (until authenticated)
 *                    tls -> frame-decoder -> frame-encoder -> idle -> link   (afterwards)
 * local TCP socket of a channel: relay
 * </pre>
 */
public final class PipelineNames {
    public static final String FIRST_BYTE = "first-byte";
    public static final String TLS = "tls";
    public static final String FRAME_DECODER = "frame-decoder";
    public static final String FRAME_ENCODER = "frame-encoder";
    public static final String FLUSH = "flush";
    public static final String AUTH = "auth";
    public static final String IDLE = "idle";
    public static final String LINK = "link";
    public static final String RELAY = "relay";

    private PipelineNames() {
    }
}
