package io.sdt.core.tunnel.push.spool;

/** A spool directory that cannot be used as it is: the message says what and where. */
public final class SpoolException extends RuntimeException {

    public SpoolException(String message) {
        super(message);
    }

    public SpoolException(String message, Throwable cause) {
        super(message, cause);
    }
}
