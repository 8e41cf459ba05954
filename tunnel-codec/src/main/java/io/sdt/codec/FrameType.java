package io.sdt.codec;

/**
 * The frame types and their type bytes. Link-level frames (below {@code 0x10}) carry no channel id;
 * channel frames carry one as a varint right after the type byte.
 */
public enum FrameType {
    HELLO(0x01),
    CHALLENGE(0x02),
    AUTH(0x03),
    AUTH_OK(0x04),
    GOAWAY(0x05),
    PING(0x06),
    PONG(0x07),
    BIND(0x08),
    BIND_OK(0x09),
    BIND_FAIL(0x0A),
    SOLE_DATAGRAM(0x0B),
    UNBIND(0x0C),
    OPEN(0x10),
    OPEN_OK(0x11),
    OPEN_FAIL(0x12),
    DATA(0x13),
    WINDOW(0x14),
    EOF(0x15),
    CLOSE(0x16),
    DATAGRAM(0x17),
    PUSH_SEQ(0x18),
    PUSH_ACK(0x19),
    VPN_CONFIG(0x1A);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    FrameType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** True for frames that belong to a channel and carry its id. */
    public boolean hasChannel() {
        return code >= 0x10;
    }

    /** The type for a code, or {@code null} if this version does not know it. */
    public static FrameType of(int code) {
        return BY_CODE[code & 0xFF];
    }
}
