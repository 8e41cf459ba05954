package io.sdt.core.secret;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SharedSecretTest {

    private static final String TEXT = "correct-horse-battery-staple";
    private static final byte[] LABEL = "purpose\0".getBytes(StandardCharsets.US_ASCII);

    @Test
    void theKeyIsSha256OfLabelThenText() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(LABEL);
        byte[] expected = sha.digest(TEXT.getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(expected, SharedSecret.of(TEXT, "secret", LABEL).key());
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(TEXT.getBytes(StandardCharsets.UTF_8)),
                SharedSecret.of(TEXT, "token", new byte[0]).key(), "no label: the plain digest (link tokens)");
    }

    @Test
    void differentLabelsGiveUnrelatedKeys() {
        assertFalse(MessageDigest.isEqual(SharedSecret.of(TEXT, "a", LABEL).key(),
                SharedSecret.of(TEXT, "a", new byte[0]).key()));
    }

    @Test
    void surroundingWhitespaceIsIgnored() {
        assertArrayEquals(SharedSecret.of(TEXT, "t", LABEL).key(), SharedSecret.of("  " + TEXT + "\n", "t", LABEL).key());
    }

    @Test
    void badTextIsRefusedInTheCallersWords() {
        assertEquals("secret is empty",
                assertThrows(IllegalArgumentException.class, () -> SharedSecret.of(" \n", "secret", LABEL)).getMessage());
        assertEquals("token is shorter than 16 characters (make one with 'sdt token')",
                assertThrows(IllegalArgumentException.class, () -> SharedSecret.of("short", "token", LABEL)).getMessage());
        assertEquals("token contains whitespace or control characters",
                assertThrows(IllegalArgumentException.class,
                        () -> SharedSecret.of("sixteen chars and more", "token", LABEL)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> SharedSecret.of(null, "token", LABEL));
    }

    @Test
    void neverPrintsItself() {
        assertEquals("***", SharedSecret.of(TEXT, "secret", LABEL).toString());
    }

    @Test
    void keyIsACopy() {
        SharedSecret s = SharedSecret.of(TEXT, "secret", LABEL);
        s.key()[0] ^= 1;
        assertArrayEquals(SharedSecret.of(TEXT, "secret", LABEL).key(), s.key());
    }
}
