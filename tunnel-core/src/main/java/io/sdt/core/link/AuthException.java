package io.sdt.core.link;

/** Authentication of a link failed: the tokens differ, or a man in the middle is present. Not retried. */
public final class AuthException extends Exception {
    public AuthException(String message) {
        super(message, null, false, false);
    }
}
