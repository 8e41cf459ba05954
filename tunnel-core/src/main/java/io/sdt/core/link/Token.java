package io.sdt.core.link;

import io.sdt.core.secret.SharedSecret;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * The shared secret of a link. Only its SHA-256 digest is kept ({@link SharedSecret} with no label), as
 * the HMAC key of the authentication proofs; {@link #toString()} never shows it.
 */
public final class Token {

    /** Shortest token accepted, in characters. */
    public static final int MIN_LENGTH = SharedSecret.MIN_LENGTH;
    private static final byte[] NO_LABEL = new byte[0];

    private final SharedSecret secret;

    private Token(SharedSecret secret) {
        this.secret = secret;
    }

    /**
     * A token from its text form. Surrounding whitespace (and a trailing newline) is ignored.
     *
     * @throws IllegalArgumentException if the token is empty, shorter than {@value #MIN_LENGTH}
     *         characters, or contains whitespace or control characters
     */
    public static Token of(String text) {
        return new Token(SharedSecret.of(text, "token", NO_LABEL));
    }

    /** A fresh random token: 32 bytes from {@link SecureRandom}, base64url without padding. */
    public static String generate() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The HMAC key derived from the token. A copy; callers may not keep it around. */
    byte[] key() {
        return secret.key();
    }

    @Override
    public String toString() {
        return "***";
    }
}
