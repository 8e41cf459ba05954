package io.sdt.core.policy;

/** A policy rule that cannot be used; the message names the flag or key and says what was expected. */
public final class RuleException extends IllegalArgumentException {
    public RuleException(String message) {
        super(message);
    }
}
