package io.sdt.core.tun;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The shared secret of {@code udp-encap-tun} peers (from {@code --secret-file}). Only a derived HMAC key is
 * kept: SHA-256 over a label and the secret, so the same file used for {@code sdt server} tokens gives a
 * different key here. {@link #toString()} prints {@code ***}. Immutable.
 */
public final class TunSecret {

    /** Shortest secret accepted, in characters (the same rule as link tokens). */
    public static final int MIN_LENGTH = 16;
    private static final byte[] LABEL = "sdt udp-encap-tun v1\0".getBytes(StandardCharsets.US_ASCII);

    private final byte[] key;

    private TunSecret(byte[] key) {
        this.key = key;
    }

    /**
     * The secret from the text of a secret file; surrounding whitespace and a trailing newline are ignored.
     *
     * @throws IllegalArgumentException if it is empty, shorter than {@value #MIN_LENGTH} characters, or
     *         contains whitespace or control characters
     */
    public static TunSecret of(String text) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("secret is empty");
        }
        if (t.length() < MIN_LENGTH) {
            throw new IllegalArgumentException("secret is shorter than " + MIN_LENGTH + " characters (make one with 'sdt token')");
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c <= ' ' || c == 0x7F) {
                throw new IllegalArgumentException("secret contains whitespace or control characters");
            }
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(LABEL);
            return new TunSecret(sha.digest(t.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The HMAC-SHA256 key. A copy. */
    byte[] key() {
        return key.clone();
    }

    @Override
    public String toString() {
        return "***";
    }
}
