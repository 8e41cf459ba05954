package io.sdt.core.secret;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A secret two parties share, given as text: a link token ({@code --token-file}, {@code SDT_TOKEN}) or
 * the secret of {@code udp-encap-tun} ({@code --secret-file}). Both are checked by the same rules and
 * kept only as a key derived from them: SHA-256 over a purpose label and the text, so one file used for
 * two purposes gives two unrelated keys. {@link #toString()} prints {@code ***}. Immutable.
 */
public final class SharedSecret {

    /** Shortest secret accepted, in characters. */
    public static final int MIN_LENGTH = 16;

    private final byte[] key;

    private SharedSecret(byte[] key) {
        this.key = key;
    }

    /**
     * The secret from its text form; surrounding whitespace (and a trailing newline) is ignored.
     *
     * @param noun  what the caller calls it in errors ({@code token}, {@code secret})
     * @param label the purpose label hashed before the text (empty for link tokens)
     * @throws IllegalArgumentException if the text is empty, shorter than {@value #MIN_LENGTH} characters,
     *         or contains whitespace or control characters
     */
    public static SharedSecret of(String text, String noun, byte[] label) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty()) {
            throw new IllegalArgumentException(noun + " is empty");
        }
        if (t.length() < MIN_LENGTH) {
            throw new IllegalArgumentException(noun + " is shorter than " + MIN_LENGTH
                    + " characters (make one with 'sdt token')");
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c <= ' ' || c == 0x7F) {
                throw new IllegalArgumentException(noun + " contains whitespace or control characters");
            }
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(label);
            return new SharedSecret(sha.digest(t.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The derived key (the HMAC key of the protocol that uses it). A copy: callers should not keep it. */
    public byte[] key() {
        return key.clone();
    }

    @Override
    public String toString() {
        return "***";
    }
}
