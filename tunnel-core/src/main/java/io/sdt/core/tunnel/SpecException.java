package io.sdt.core.tunnel;

/** A tunnel spec or one of its options that cannot be used; the message names it and says what was expected. */
public final class SpecException extends IllegalArgumentException {
    public SpecException(String message) {
        super(message);
    }
}
