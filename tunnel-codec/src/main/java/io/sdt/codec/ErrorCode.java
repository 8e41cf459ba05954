package io.sdt.codec;

/**
 * Why a channel open, a bind or a link was refused or ended; carried as one byte in OPEN_FAIL,
 * BIND_FAIL, CLOSE and GOAWAY frames. Unknown codes decode as {@link #GENERAL}.
 */
public enum ErrorCode {
    NONE(0),
    GENERAL(1),
    DENIED(2),
    REFUSED(3),
    UNREACHABLE(4),
    TIMEOUT(5),
    LIMIT(6),
    UNKNOWN_TUNNEL(7),
    AUTH_FAILED(8),
    PROTOCOL(9),
    SHUTDOWN(10),
    UNSUPPORTED(11),
    /** A stream's socket was reset or failed mid-stream; the receiver resets its socket too (CLOSE). */
    RESET(12);

    private static final ErrorCode[] BY_CODE = new ErrorCode[256];

    static {
        for (ErrorCode c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static ErrorCode of(int code) {
        ErrorCode c = BY_CODE[code & 0xFF];
        return c == null ? GENERAL : c;
    }
}
