package io.sdt.core.link;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The shared secret of a link. Only its SHA-256 digest is kept, as the HMAC key of the
 * authentication proofs; {@link #toString()} never shows it.
 */
public final class Token {

    /** Shortest token accepted, in characters. */
    public static final int MIN_LENGTH = 16;

    private final byte[] key;

    private Token(byte[] key) {
        this.key = key;
    }

    /**
     * A token from its text form. Surrounding whitespace (and a trailing newline) is ignored.
     *
     * @throws IllegalArgumentException if the token is empty, shorter than {@value #MIN_LENGTH}
     *         characters, or contains whitespace or control characters
     */
    public static Token of(String text) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("token is empty");
        }
        if (t.length() < MIN_LENGTH) {
            throw new IllegalArgumentException("token is shorter than " + MIN_LENGTH + " characters (make one with 'sdt token')");
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c <= ' ' || c == 0x7F) {
                throw new IllegalArgumentException("token contains whitespace or control characters");
            }
        }
        try {
            return new Token(MessageDigest.getInstance("SHA-256").digest(t.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fresh random token: 32 bytes from {@link SecureRandom}, base64url without padding. */
    public static String generate() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** The HMAC key derived from the token. A copy; callers may not keep it around. */
    byte[] key() {
        return key.clone();
    }

    @Override
    public String toString() {
        return "***";
    }
}
